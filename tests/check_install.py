"""What a fresh `pip install -e .` (no extras) must give: every `vatt` module imports and every command answers `--help`.

Run as a script in the venv to check (`.ci/run` runs it in the README's first venv, before any extra is installed).
With `--only-declared` it first makes every module that vatt's declared dependency closure does not bring unimportable,
so the same check can be run in a venv that has more installed (`tests/test_install.py` does, under pytest)."""
import contextlib, importlib, importlib.abc, importlib.metadata as md, io, pkgutil, sys
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def dependency_closure(dist:str='vatt', extras:tuple=()) -> set:
    "Canonical names of `dist` and every distribution its requirements bring, following extras that are asked for."
    seen, todo = set(), [(dist, frozenset(extras))]
    while todo:
        name, ex = todo.pop()
        if (canonicalize_name(name), ex) in seen: continue
        seen.add((canonicalize_name(name), ex))
        try: reqs = md.distribution(name).requires or []
        except md.PackageNotFoundError: continue
        for r in map(Requirement, reqs):
            envs = [{'extra': e} for e in ex] or [{'extra': ''}]
            if r.marker is None or any(r.marker.evaluate(e) for e in envs): todo.append((r.name, frozenset(r.extras)))
    return {n for n, _ in seen}


class BlockUndeclared(importlib.abc.MetaPathFinder):
    "Refuse top-level modules that only distributions outside `allowed` provide, as if they were not installed."
    def __init__(self, allowed:set):
        self.blocked = {m for m, ds in md.packages_distributions().items() if not any(canonicalize_name(d) in allowed for d in ds)}
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in self.blocked: raise ModuleNotFoundError(f'No module named {name!r} (not declared by vatt)', name=name)


def vatt_modules() -> list:
    import vatt
    return ['vatt'] + [f'vatt.{m.name}' for m in pkgutil.iter_modules(vatt.__path__)]


def help_text(args:list) -> str:
    "What `vatt ARGS` prints, run in this process (argparse exits 0 after --help)."
    from vatt.cli import main as vatt_main
    out, argv = io.StringIO(), sys.argv
    sys.argv = ['vatt', *args]
    try:
        with contextlib.redirect_stdout(out): vatt_main()
    except SystemExit as e: assert e.code in (0, None), (args, e.code)
    finally: sys.argv = argv
    return out.getvalue()


def main(only_declared:bool=False):
    if only_declared: sys.meta_path.insert(0, BlockUndeclared(dependency_closure()))
    mods = vatt_modules()
    assert {'vatt.learner', 'vatt.cli', 'vatt.report', 'vatt.all'} <= set(mods), mods
    for m in mods: importlib.import_module(m)
    print(f'imported {len(mods)} vatt modules')
    from vatt.cli import parser
    cmds = list(parser()._subparsers._group_actions[0].choices)
    assert {'demo', 'train', 'explain', 'predict'} <= set(cmds), cmds
    for args in [['--help']] + [[c, '--help'] for c in cmds]:
        assert help_text(args).startswith('usage: vatt'), args
    print(f'vatt --help and the --help of {len(cmds)} commands: {", ".join(cmds)}')


if __name__ == '__main__': main(only_declared='--only-declared' in sys.argv)
