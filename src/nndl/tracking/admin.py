"""Accounts on the project's shared MLflow server (scripts/mlflow-server.sh, basic authentication).

    python -m nndl.tracking.admin add-user URI AUTH_DIR NAME EXPERIMENT PERMISSION
    python -m nndl.tracking.admin grant URI NAME EXPERIMENT PERMISSION
    python -m nndl.tracking.admin rotate-admin URI AUTH_DIR

The script runs these with the admin's credentials in MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD (from AUTH_DIR/admin.env). Passwords are generated here and written only
to owner-only files in AUTH_DIR (`admin.env`, `users/NAME.env`, each two lines a shell can source);
nothing prints them.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from mlflow.exceptions import MlflowException

from nndl.errors import NndlError
from nndl.tracking.store import ensure_experiment


def create_user(uri: str, username: str, password: str, experiment: str, permission: str) -> str:
    """Create `username` on an auth-enabled server (as the admin in MLFLOW_TRACKING_USERNAME /
    MLFLOW_TRACKING_PASSWORD) with `permission` (READ, EDIT, MANAGE) on `experiment`, created if
    missing. Returns the experiment's id."""
    from mlflow.server.auth.client import AuthServiceClient

    experiment_id = ensure_experiment(uri, experiment)
    auth = AuthServiceClient(uri)
    try:
        auth.create_user(username, password)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        raise NndlError(f"user {username!r} exists on {uri} already: pick another name, or delete the user "
                        "(mlflow.server.auth.client.AuthServiceClient.delete_user) first") from None
    auth.grant_user_permission(username, "experiment", experiment_id, permission)
    return experiment_id


def grant(uri: str, username: str, experiment: str, permission: str) -> None:
    """Give an existing user `permission` (READ, EDIT, MANAGE) on `experiment`, replacing what it had
    there (as the admin in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)."""
    from mlflow.server.auth.client import AuthServiceClient
    from mlflow.tracking import MlflowClient

    found = MlflowClient(tracking_uri=uri).get_experiment_by_name(experiment)
    if found is None:
        raise NndlError(f"there is no experiment {experiment!r} on {uri}: the pipeline's first run makes it "
                        f"(or: scripts/mlflow-server.sh add-user NAME {experiment} makes it with a new user)")
    auth = AuthServiceClient(uri)
    try:
        auth.revoke_user_permission(username, "experiment", found.experiment_id)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    auth.grant_user_permission(username, "experiment", found.experiment_id, permission)


def change_password(uri: str, username: str, password: str, current_password: str) -> None:
    """Set `username`'s password, as that user (MLflow asks for the current one)."""
    from mlflow.server.auth.client import AuthServiceClient

    AuthServiceClient(uri).update_user_password(username, password, current_password=current_password)


def write_credentials(path: Path, username: str, password: str) -> None:
    """MLFLOW_TRACKING_USERNAME / _PASSWORD in a file only its owner can read, replaced whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"MLFLOW_TRACKING_USERNAME={username}\nMLFLOW_TRACKING_PASSWORD={password}\n")
    os.replace(temporary, path)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def add_user(uri: str, auth_dir: Path, name: str, experiment: str, permission: str) -> Path:
    """A new user with `permission` on `experiment`; returns the file holding its credentials."""
    path = auth_dir / "users" / f"{name}.env"
    if path.exists():
        raise NndlError(f"user {name!r} exists already (its credentials: {path})")
    password = new_password()
    create_user(uri, name, password, experiment, permission)
    write_credentials(path, name, password)
    return path


def rotate_admin(uri: str, auth_dir: Path) -> Path:
    """A new admin password (NNDL_MLFLOW_ADMIN_PASSWORD, or generated); returns admin.env."""
    password = os.environ.get("NNDL_MLFLOW_ADMIN_PASSWORD") or new_password()
    username = os.environ["MLFLOW_TRACKING_USERNAME"]
    change_password(uri, username, password, current_password=os.environ["MLFLOW_TRACKING_PASSWORD"])
    path = auth_dir / "admin.env"
    write_credentials(path, username, password)
    return path


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["add-user"] and len(argv) == 6:
            path = add_user(argv[1], Path(argv[2]), argv[3], argv[4], argv[5])
            print(f"user {argv[3]!r} has {argv[5]} on experiment {argv[4]!r}; credentials in {path}")
        elif argv[:1] == ["grant"] and len(argv) == 5:
            grant(argv[1], argv[2], argv[3], argv[4])
            print(f"user {argv[2]!r} has {argv[4]} on experiment {argv[3]!r}")
        elif argv[:1] == ["rotate-admin"] and len(argv) == 3:
            print(f"new admin password in {rotate_admin(argv[1], Path(argv[2]))}")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except NndlError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
