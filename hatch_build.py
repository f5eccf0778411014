"""Build hook: compiles `ombud.audit._sha256many`, the native SHA-256 loop that full audit verification uses.

Python's hashlib costs ~0.7 µs of call overhead per hash around OpenSSL's ~0.2 µs of hashing; verification
hashes every leaf and every tree node, so one call per array of values (this small C module over OpenSSL's
EVP interface) is what brings it to its goal. No maintained library offers SHA-256 of many buffers in one call.

The module is optional: without a C compiler or OpenSSL's headers the build warns and goes on, and
verification uses hashlib (same results, slower). Editable installs get the module next to its source;
wheels carry it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/ombud/audit/_sha256many.c")


class NativeHashing(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name not in ("wheel", "editable"):
            return
        source = Path(self.root) / SOURCE
        target = source.with_name("_sha256many" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
        compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
        command = [*compiler, "-O2", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}", str(source),
                   "-lcrypto", "-o", str(target)]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 (our own compiler line)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            print(f"ombud: native SHA-256 module not built ({detail.strip()[:300]}); audit verification will "
                  "use hashlib", file=sys.stderr)
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"ombud/audit/{target.name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
