#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for trying and testing profiles/slurm.
#
#   sudo scripts/slurm-cluster.sh up       # install (Debian) and start munge, slurmctld, slurmd
#   sudo scripts/slurm-cluster.sh status   # sinfo
#   sudo scripts/slurm-cluster.sh down     # cancel jobs, stop the daemons
#
# Needs root: Slurm reads /etc/slurm/slurm.conf inside job steps whatever SLURM_CONF says, so the
# config goes there (an existing one is kept as slurm.conf.nndl-backup and restored by `down`).
# One partition, "nndl", no accounting: give Snakemake --slurm-status-command squeue.
set -euo pipefail

STATE=${NNDL_SLURM_STATE:-/tmp/nndl-slurm}
CONF=/etc/slurm/slurm.conf
PARTITION=nndl

log() { echo "[slurm-cluster] $*" >&2; }

install_packages() {
    local missing=()
    for package in slurmctld slurmd slurm-client munge; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

write_config() {
    local host node
    host=$(hostname -s)
    # The node as slurmd sees it (CPUs, sockets, memory), reachable on loopback.
    node=$(slurmd -C | head -n 1)
    mkdir -p "$STATE"/{spool,state,log} /etc/slurm
    if [ -f "$CONF" ] && ! grep -q "nndl test cluster" "$CONF"; then
        cp "$CONF" "$CONF.nndl-backup"
    fi
    cat > "$CONF" <<CONF
# nndl test cluster (scripts/slurm-cluster.sh): one node on localhost.
ClusterName=nndl
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmdSpoolDir=$STATE/spool
StateSaveLocation=$STATE/state
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/log/jobcomp.log
${node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
    if pgrep -x munged >/dev/null; then return; fi
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating a munge key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown -R munge:munge /etc/munge && chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
}

up() {
    install_packages
    write_config
    start_munge
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 60); do
        if sinfo -h -o "%t" 2>/dev/null | grep -qE "^idle"; then
            log "up: partition $PARTITION on $(hostname -s), logs in $STATE/log"
            sinfo
            return 0
        fi
        sleep 1
    done
    log "the node did not become idle; see $STATE/log"
    sinfo || true
    tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
    return 1
}

down() {
    scancel --full --quiet -u root 2>/dev/null || true
    for daemon in slurmd slurmctld; do
        pkill -x "$daemon" 2>/dev/null || true
    done
    for _ in $(seq 20); do
        pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break
        sleep 0.5
    done
    if [ -f "$CONF.nndl-backup" ]; then
        mv "$CONF.nndl-backup" "$CONF"
    elif [ -f "$CONF" ] && grep -q "nndl test cluster" "$CONF"; then
        rm -f "$CONF"
    fi
    log "down (munged left running; state and logs in $STATE)"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) sinfo && squeue ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
