"""Where the sample programs are: packaged in the wheel, or beside the source tree."""

from importlib import resources
from pathlib import Path


def samples_dir() -> Path:
    packaged = Path(str(resources.files("loyaltyctl"))) / "sample_programs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sample_programs"


def template_names() -> list[str]:
    return sorted(path.stem for path in samples_dir().glob("*.toml"))


def template_path(name: str) -> Path | None:
    path = samples_dir() / f"{name}.toml"
    return path if path.is_file() else None
