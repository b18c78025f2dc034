# -*- Python -*-
import os

import lit.formats

config.name = "Tessera"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.tessera_obj_root

tool_dirs = [
    os.path.join(config.tessera_tools_dir, "tessera-compile"),
    os.path.join(config.tessera_tools_dir, "tessera-opt"),
    os.path.join(config.tessera_tools_dir, "tessera-run"),
    config.llvm_tools_dir,
]
config.environment["PATH"] = os.pathsep.join(
    tool_dirs + [config.environment.get("PATH", os.environ.get("PATH", ""))])
# Debian's python3-onnx is only visible to /usr/bin/python3.
config.substitutions.append(("%python", config.python_executable))
