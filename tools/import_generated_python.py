"""Imports every module of a package openapi-generator wrote (the `generators` gate of
`cargo xtask lint`): python3 import_generated_python.py DIR PACKAGE.

Byte-compiles every file under DIR first (a syntax error anywhere fails), then imports the
package and each of its submodules, so that every model and API module is executed once.
"""

import compileall
import importlib
import pkgutil
import sys


def main() -> int:
    directory, package_name = sys.argv[1], sys.argv[2]
    if not compileall.compile_dir(directory, quiet=1, legacy=False):
        print(f"{directory}: a file does not compile", file=sys.stderr)
        return 1
    sys.path.insert(0, directory)
    package = importlib.import_module(package_name)
    modules = [info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")]
    for name in modules:
        importlib.import_module(name)
    print(f"{len(modules) + 1} modules import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
