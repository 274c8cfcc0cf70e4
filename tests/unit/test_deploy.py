"""Checks of the deploy recipes in ``deploy/`` that need no container engine or cluster.

The YAML files parse; the compose file has a scheduler, two workers pointing at it and
Jupyter; every ``dask scheduler|worker`` command line (compose, Dockerfile, DaskCluster, the
Helm chart's generated commands, the sbatch script) uses flags the installed ``distributed``
offers; every ``dask-deeplearn`` command in the docs exists; the Dockerfile copies files that
exist and build a wheel; the Python scripts compile and answer ``--help`` without
dask-jobqueue / dask-kubernetes; the dashboard routes variable keeps Dask's defaults.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import py_compile
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker" / "docker-compose.yml"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
DASKCLUSTER = DEPLOY / "kubernetes" / "daskcluster.yaml"
HELM_VALUES = DEPLOY / "kubernetes" / "helm-values.yaml"
SBATCH = DEPLOY / "slurm" / "dask_cluster.sbatch"
SCRIPTS = [DEPLOY / "kubernetes" / "kubecluster.py", DEPLOY / "slurm" / "slurm_cluster.py"]
ROUTES_VAR = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
DASHBOARD_MODULE = "dask_deeplearn.distributed.dashboard"


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _run(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@functools.lru_cache(maxsize=None)
def _dask_help(sub: str) -> str:
    """``dask <sub> --help`` of the installed distributed."""
    dask = shutil.which("dask")
    cmd = [dask] if dask else [sys.executable, "-m", "dask"]
    out = _run(*cmd, sub, "--help")
    assert out.returncode == 0, f"`dask {sub} --help` failed: {out.stderr}"
    return out.stdout


@functools.lru_cache(maxsize=None)
def _ddl_help(*sub: str) -> str:
    """``dask-deeplearn [sub] --help``."""
    out = _run(sys.executable, "-m", "dask_deeplearn.cli", *sub, "--help")
    assert out.returncode == 0, f"`dask-deeplearn {' '.join(sub)} --help` failed: {out.stderr}"
    return out.stdout


def _flags(tokens: list[str]) -> list[str]:
    """The ``--flag`` names of a command line (``--a=b`` gives ``--a``)."""
    return [t.split("=", 1)[0] for t in tokens if t.startswith("--")]


def _check_dask_command(tokens: list[str], where: str) -> None:
    """``tokens`` is ``dask scheduler|worker ...`` using only flags of its ``--help``."""
    assert tokens[0] == "dask", f"{where}: {tokens}"
    assert tokens[1] in ("scheduler", "worker"), f"{where}: unknown sub-command {tokens[1]!r}"
    text = _dask_help(tokens[1])
    for flag in _flags(tokens[2:]):
        assert re.search(rf"(^|[\s/]){re.escape(flag)}(\s|$|,)", text, re.M), \
            f"{where}: `dask {tokens[1]}` has no option {flag}"
    if tokens[1] == "worker" and "--nworkers" in tokens:
        # one worker process per machine: Hogwild uses all threads of one process
        assert tokens[tokens.index("--nworkers") + 1] == "1", where


def _compose_services() -> dict:
    return _load(COMPOSE)["services"]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _helm_commands() -> dict[str, list[str]]:
    """The scheduler and worker command lines the dask/dask chart builds from the values.

    As its templates do: scheduler ``dask-scheduler --port=<servicePort>
    --dashboard-address=:8787 <extraArgs>``; worker ``<dask_worker> <scheduler> --nthreads
    <threads_per_worker> --memory-limit <limits.memory> --no-dashboard --dashboard-address
    <portDashboard> <extraArgs>``. The image maps ``dask-scheduler`` / ``dask-worker`` to
    ``dask scheduler`` / ``dask worker`` (checked in test_command_aliases).
    """
    v = _load(HELM_VALUES)
    sched, work = v.get("scheduler", {}), v["worker"]
    assert work["image"].get("dask_worker", "dask-worker") == "dask-worker"
    limits = work["resources"]["limits"]
    scheduler = ["dask", "scheduler", f"--port={sched.get('servicePort', 8786)}",
                 "--dashboard-address=:8787", *map(str, sched.get("extraArgs", []))]
    worker = ["dask", "worker", "ddl-dask-scheduler:8786",
              "--nthreads", str(work.get("threads_per_worker", limits["cpu"])),
              "--memory-limit", str(limits["memory"]), "--no-dashboard",
              "--dashboard-address", "8790", *map(str, work.get("extraArgs", []))]
    return {"scheduler": scheduler, "worker": worker}


def _sbatch_commands() -> list[list[str]]:
    text = re.sub(r"\\\n", " ", SBATCH.read_text(encoding="utf-8"))
    cmds = []
    for line in text.splitlines():
        tokens = shlex.split(line, comments=True)
        if "dask" in tokens:
            i = tokens.index("dask")
            cmds.append([t for t in tokens[i:] if t != "&"])
    return cmds


def _routes_values() -> dict[str, str]:
    """Every value given to the routes variable, by recipe."""
    out = {}
    sched = _compose_services()["scheduler"]
    out["compose"] = sched["environment"][ROUTES_VAR]
    for c in _load(DASKCLUSTER)["spec"]["scheduler"]["spec"]["containers"]:
        out["daskcluster"] = {e["name"]: e["value"] for e in c["env"]}[ROUTES_VAR]
    out["helm"] = {e["name"]: e["value"] for e in _load(HELM_VALUES)["scheduler"]["env"]}[
        ROUTES_VAR]
    m = re.search(rf'^export {ROUTES_VAR}="(.*)"$', SBATCH.read_text(encoding="utf-8"), re.M)
    assert m, "dask_cluster.sbatch does not export the routes variable"
    out["sbatch"] = m.group(1)
    return out


def _dask_default_routes() -> list[str]:
    code = ("import dask, distributed, json; "
            "print(json.dumps(dask.config.get('distributed.scheduler.http.routes')))")
    # a fresh interpreter: Dask's defaults, whatever this process's config holds
    env_free = _run(sys.executable, "-c", code)
    assert env_free.returncode == 0, env_free.stderr
    return json.loads(env_free.stdout)


# --------------------------------------------------------------------------- files


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yml")) + sorted(DEPLOY.rglob("*.yaml"))
    assert {f.name for f in files} >= {"docker-compose.yml", "daskcluster.yaml",
                                       "helm-values.yaml"}
    for f in files:
        docs = list(yaml.safe_load_all(f.read_text(encoding="utf-8")))
        assert docs and all(isinstance(d, dict) for d in docs), f


def test_every_recipe_has_a_readme():
    for d in (DEPLOY, DEPLOY / "docker", DEPLOY / "kubernetes", DEPLOY / "slurm"):
        text = (d / "README.md").read_text(encoding="utf-8")
        assert "scheduler_address" in text or d.name == "docker", d
        assert "tcp://" in text, d


def test_compose_has_scheduler_two_workers_and_jupyter():
    services = _compose_services()
    assert "scheduler" in services and "jupyter" in services
    workers = {name: s for name, s in services.items()
               if s.get("command", [])[:2] == ["dask", "worker"]}
    n = sum(s.get("deploy", {}).get("replicas", 1) for s in workers.values())
    assert n == 2, workers
    for name, s in workers.items():
        # the worker connects to the scheduler service by its name
        assert s["command"][2] == "tcp://scheduler:8786", name
        assert "scheduler" in s["depends_on"], name
    sched = services["scheduler"]
    assert sched["command"][:2] == ["dask", "scheduler"]
    assert any(str(p).endswith(":8787") for p in sched["ports"])
    assert any(str(p).endswith(":8786") for p in sched["ports"])
    jup = services["jupyter"]
    assert jup["build"]["target"] == "jupyter"
    assert jup["environment"]["DASK_SCHEDULER_ADDRESS"] == "tcp://scheduler:8786"
    mounts = [str(v).split(":")[0] for v in jup["volumes"]]
    assert "../../notebooks" in mounts
    assert (COMPOSE.parent / "../../notebooks").resolve() == ROOT / "notebooks"
    assert (ROOT / "notebooks").is_dir()
    for s in services.values():
        build = s.get("build")
        if build:
            assert (COMPOSE.parent / build["context"]).resolve() == ROOT
            assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
            stages = [a.split()[-1] for w, a in _dockerfile_instructions() if w == "FROM"]
            assert build["target"] in stages


def test_dockerfile_copy_sources_exist_and_stages():
    ins = _dockerfile_instructions()
    assert ins[0][0] in ("ARG", "FROM")
    froms = [a for w, a in ins if w == "FROM"]
    assert froms[0].startswith("python:${PYTHON_VERSION}-slim")
    assert [w for w, a in ins if w == "ARG" and a.startswith("PYTHON_VERSION=")] and \
        "PYTHON_VERSION=3.11" in [a for w, a in ins if w == "ARG"]
    assert froms[-1].split()[-1] == "worker", "the default target must be the worker"
    copies = [a for w, a in ins if w == "COPY"]
    assert copies
    for args in copies:
        parts = [p for p in args.split() if not p.startswith("--")]
        for src in parts[:-1]:
            assert (ROOT / src).exists(), f"COPY source {src} is not in the repository"
    runs = " ".join(a for w, a in ins if w == "RUN")
    assert "pip install /src" in runs
    # every stage ends as a non-root user (a stage starts with its parent stage's user)
    user: dict[str, str] = {}
    stage = None
    for w, a in ins:
        if w == "FROM":
            parts = a.split()
            stage = parts[-1] if "AS" in [p.upper() for p in parts] else parts[0]
            user[stage] = user.get(parts[0], "root")
        elif w == "USER":
            user[stage] = a
    assert user and all(u not in ("root", "0") for u in user.values()), user
    env = " ".join(a for w, a in ins if w == "ENV")
    assert "NUMBA_CACHE_DIR=/home/dask/" in env
    # the .dockerignore next to the Dockerfile lets every COPY source through
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    lines = ignore.splitlines()
    assert "**" in lines, "the context excludes everything not listed"
    for args in copies:
        for src in [p for p in args.split() if not p.startswith("--")][:-1]:
            allowed = [f"!{src}", f"!{src}/**"] + [
                f"!{src.rsplit('/', 1)[0]}/**"] * ("/" in src)
            assert any(a in lines for a in allowed), f"{src} is excluded by .dockerignore"


def _extras() -> dict[str, list[str]]:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


def test_dashboard_and_notebook_extras():
    from packaging.requirements import Requirement
    from distributed.versions import BOKEH_REQUIREMENT

    extras = _extras()
    (bokeh,) = [Requirement(r) for r in extras["dashboard"]]
    assert bokeh.name == "bokeh"
    # the lowest bokeh the extra allows is one distributed serves its dashboard with
    lowest = min(s.version for s in bokeh.specifier if s.operator == ">=")
    assert BOKEH_REQUIREMENT.specifier.contains(lowest), (bokeh, BOKEH_REQUIREMENT)
    assert {Requirement(r).name for r in extras["notebook"]} == {"ipywidgets", "matplotlib"}


def test_the_image_installs_the_dashboard_extra_and_jupyter_the_notebook_one():
    ins = _dockerfile_instructions()
    default = [a.split("=", 1)[1].strip('"') for w, a in ins
               if w == "ARG" and a.startswith("EXTRAS=")]
    assert default and "dashboard" in default[0].split(","), default
    runs = " ".join(a for w, a in ins if w == "RUN")
    assert 'pip install "/src[${EXTRAS}]"' in runs
    # the jupyter stage installs the notebook extra's requirements as pyproject spells them
    stage, jupyter_runs = None, []
    for w, a in ins:
        if w == "FROM":
            stage = a.split()[-1]
        elif w == "RUN" and stage == "jupyter":
            jupyter_runs.append(a)
    for req in _extras()["notebook"]:
        assert any(f'"{req}"' in r for r in jupyter_runs), f"jupyter stage lacks {req}"
    # the recipes that do not use the image ask for the extra
    assert "[dashboard]" in (DEPLOY / "slurm" / "README.md").read_text(encoding="utf-8")
    for readme in (DEPLOY / "README.md", DEPLOY / "docker" / "README.md",
                   DEPLOY / "kubernetes" / "README.md"):
        assert "/dask_deeplearn/" in readme.read_text(encoding="utf-8"), readme


def test_copied_sources_build_the_package(tmp_path):
    # the image's `pip install /src` step, without the dependencies: the COPY set is enough
    src = tmp_path / "src"
    src.mkdir()
    for args in [a for w, a in _dockerfile_instructions() if w == "COPY"]:
        parts = args.split()
        if parts[-1].startswith("/src"):
            for s in parts[:-1]:
                target = src / Path(parts[-1]).relative_to("/src") if not parts[-1].endswith(
                    "/") else src / Path(s).name
                if (ROOT / s).is_dir():
                    shutil.copytree(ROOT / s, target,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(ROOT / s, target)
    out = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
               "-w", str(tmp_path / "wheel"), str(src), timeout=300)
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / "wheel").glob("dask_deeplearn-*.whl"))


def test_command_aliases_for_the_helm_chart():
    for name, sub in (("dask-scheduler", "scheduler"), ("dask-worker", "worker")):
        path = DEPLOY / "docker" / "bin" / name
        assert path.stat().st_mode & 0o111, f"{path} is not executable"
        text = path.read_text(encoding="utf-8")
        assert text.startswith("#!/bin/sh\n")
        assert f'exec dask {sub} "$@"' in text


# --------------------------------------------------------------------------- command lines


def test_dask_commands_use_existing_flags():
    checked = 0
    for name, s in _compose_services().items():
        cmd = [str(t) for t in s.get("command", [])]
        if cmd[:1] == ["dask"]:
            _check_dask_command(cmd, f"docker-compose.yml service {name}")
            checked += 1
    cmds = [json.loads(a) for w, a in _dockerfile_instructions() if w == "CMD"]
    assert cmds[-1][:2] == ["dask", "worker"], "the image's default command is a worker"
    assert cmds[-1][2] == "tcp://scheduler:8786"
    for cmd in cmds:
        if cmd[0] == "dask":
            _check_dask_command(cmd, "Dockerfile CMD")
            checked += 1
    for role in ("scheduler", "worker"):
        for c in _load(DASKCLUSTER)["spec"][role]["spec"]["containers"]:
            _check_dask_command([str(t) for t in c["args"]], f"daskcluster.yaml {role}")
            checked += 1
    for role, cmd in _helm_commands().items():
        _check_dask_command(cmd, f"helm-values.yaml {role}")
        checked += 1
    sbatch = _sbatch_commands()
    assert [c[1] for c in sbatch] == ["scheduler", "worker"]
    for cmd in sbatch:
        _check_dask_command(cmd, "dask_cluster.sbatch")
        checked += 1
    assert checked == 3 + 1 + 2 + 2 + 2  # compose, Dockerfile, operator, Helm, sbatch


def test_flag_check_rejects_unknown_flags():
    with pytest.raises(AssertionError, match="no option --threads-per-worker"):
        _check_dask_command(["dask", "worker", "tcp://s:8786", "--threads-per-worker", "2"],
                            "example")
    with pytest.raises(AssertionError, match="unknown sub-command"):
        _check_dask_command(["dask", "cluster"], "example")


def test_kubernetes_worker_threads_match_cpu_limits():
    for c in _load(DASKCLUSTER)["spec"]["worker"]["spec"]["containers"]:
        args = [str(a) for a in c["args"]]
        assert args[args.index("--nthreads") + 1] == str(c["resources"]["limits"]["cpu"])
    w = _load(HELM_VALUES)["worker"]
    assert int(w["threads_per_worker"]) == int(w["resources"]["limits"]["cpu"])
    assert w["replicas"] == 2
    assert _load(DASKCLUSTER)["spec"]["worker"]["replicas"] == 2
    assert _load(DASKCLUSTER)["apiVersion"] == "kubernetes.dask.org/v1"
    assert _load(DASKCLUSTER)["kind"] == "DaskCluster"


def _ddl_commands() -> list[tuple[str, list[str]]]:
    """Every ``dask-deeplearn <sub> ...`` in deploy/ (docs, comments, scripts)."""
    found = []
    for f in sorted(DEPLOY.rglob("*")):
        if not f.is_file() or f.suffix in (".pyc",):
            continue
        text = re.sub(r"\\\n\s*", " ", f.read_text(encoding="utf-8"))
        for m in re.finditer(r"(?<![\w/.-])dask-deeplearn ([a-z][^`\n;|)]*)", text):
            tokens = m.group(1).split()
            if tokens[0] in ("--version",) or tokens[0].startswith("-"):
                continue
            found.append((f"{f.relative_to(ROOT)}", tokens))
    return found


def test_dask_deeplearn_commands_exist():
    commands = _ddl_commands()
    assert commands, "the recipes show at least one dask-deeplearn command"
    top = _ddl_help()
    for where, tokens in commands:
        sub = tokens[0]
        assert re.search(rf"^\s+{sub}\s", top, re.M), f"{where}: no sub-command {sub!r}"
        text = _ddl_help(sub)
        for flag in _flags(tokens[1:]):
            assert re.search(rf"(^|\s|\[){re.escape(flag)}(\s|$|,|\])", text, re.M), \
                f"{where}: `dask-deeplearn {sub}` has no option {flag}"
    # `python -m dask_deeplearn...` modules named anywhere in deploy/ exist
    for f in sorted(DEPLOY.rglob("*")):
        if f.is_file():
            for mod in re.findall(r"python -m (dask_deeplearn[\w.]*)", f.read_text("utf-8")):
                assert importlib.util.find_spec(mod), f"{f}: no module {mod}"
    # the image checks the CLI is installed
    assert "dask-deeplearn --version" in DOCKERFILE.read_text(encoding="utf-8")
    assert "--version" in top


# --------------------------------------------------------------------------- routes


def test_routes_variable_keeps_dask_defaults_and_adds_ours():
    defaults = _dask_default_routes()
    assert defaults, "distributed has default scheduler routes"
    values = _routes_values()
    assert set(values) == {"compose", "daskcluster", "helm", "sbatch"}
    for where, text in values.items():
        routes = ast.literal_eval(text)
        assert isinstance(routes, list) and all(isinstance(r, str) for r in routes), where
        assert routes == [*defaults, DASHBOARD_MODULE], where
        for name in defaults:
            assert importlib.util.find_spec(name), f"{where}: Dask route {name} not found"


def test_routes_variable_is_read_by_dask(tmp_path):
    # Dask turns the variable into the config list the scheduler's HTTP server imports
    value = _routes_values()["compose"]
    code = ("import dask, distributed, json; "
            "print(json.dumps(dask.config.get('distributed.scheduler.http.routes')))")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("DASK_")}
    env[ROUTES_VAR] = value
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ast.literal_eval(value)


def test_the_dashboard_module_the_recipes_name_serves_routes():
    module = importlib.import_module(DASHBOARD_MODULE)
    routes = module.routes  # what distributed.http.utils.get_handlers reads
    assert isinstance(routes, list) and routes
    for url, handler, kwargs in routes:
        assert isinstance(url, str) and isinstance(kwargs, dict) and callable(handler)


# --------------------------------------------------------------------------- scripts


def _run_script(path: Path, *args: str, run_name: str = "__main__"):
    """Run ``path`` with dask_jobqueue and dask_kubernetes made unimportable."""
    code = ("import runpy, sys\n"
            "sys.modules['dask_jobqueue'] = None\n"
            "sys.modules['dask_kubernetes'] = None\n"
            f"sys.argv = [{str(path)!r}, *{list(args)!r}]\n"
            f"runpy.run_path({str(path)!r}, run_name={run_name!r})\n")
    return _run(sys.executable, "-c", code)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_compiles_and_helps_without_optional_packages(script, tmp_path):
    py_compile.compile(str(script), cfile=str(tmp_path / "x.pyc"), doraise=True)
    out = _run_script(script, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage:")
    # importing runs nothing: no output, no cluster
    imported = _run_script(script, run_name="deploy_script")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "" and imported.stderr == ""


def test_slurm_script_reports_missing_jobqueue():
    out = _run_script(DEPLOY / "slurm" / "slurm_cluster.py", "--dry-run")
    assert out.returncode == 2
    assert "dask-jobqueue" in out.stderr
    out = _run_script(DEPLOY / "slurm" / "slurm_cluster.py", "--train", "x.csv")
    assert out.returncode == 2 and "--train needs --y" in out.stderr


def _import_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"deploy_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_slurm_scheduler_routes():
    mod = _import_script(DEPLOY / "slurm" / "slurm_cluster.py")
    routes = mod.scheduler_routes()
    defaults = _dask_default_routes()
    assert routes[:len(defaults)] == defaults
    assert DASHBOARD_MODULE in routes  # the package has the module, so the route is on
    assert mod.DASHBOARD_MODULE == DASHBOARD_MODULE


def test_slurm_job_script_runs_one_worker_with_all_cores():
    pytest.importorskip("dask_jobqueue")
    mod = _import_script(DEPLOY / "slurm" / "slurm_cluster.py")
    args = mod.build_parser().parse_args(
        ["--cores", "16", "--memory", "60GB", "--job-extra=--exclusive",
         "--prologue", "module load python"])
    with mod.make_cluster(args) as cluster:
        script = cluster.job_script()
    assert "#SBATCH --cpus-per-task=16" in script and "#SBATCH --exclusive" in script
    assert "export NUMBA_CACHE_DIR=" in script and "module load python" in script
    line = next(ln for ln in script.splitlines() if "dask_worker" in ln or "dask worker" in ln)
    tokens = shlex.split(line)
    tokens = ["dask", "worker", *tokens[tokens.index("distributed.cli.dask_worker") + 1:]]
    _check_dask_command(tokens, "SLURMCluster job script")
    assert tokens[tokens.index("--nthreads") + 1] == "16"


def test_kubecluster_load_spec(tmp_path):
    mod = _import_script(DEPLOY / "kubernetes" / "kubecluster.py")
    assert Path(mod.SPEC_FILE) == DASKCLUSTER
    base = mod.load_spec()
    assert base == _load(DASKCLUSTER)
    spec = mod.load_spec(name="ddl-test", image="registry.example.com/ddl:1", workers=5)
    assert spec["metadata"]["name"] == "ddl-test"
    assert spec["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] == \
        "ddl-test"
    assert spec["spec"]["worker"]["replicas"] == 5
    images = {c["image"] for role in ("scheduler", "worker")
              for c in spec["spec"][role]["spec"]["containers"]}
    assert images == {"registry.example.com/ddl:1"}
    assert mod.load_spec() == base, "overrides must not change the file's spec"
    with pytest.raises(ValueError, match="--workers"):
        mod.load_spec(workers=-1)
    other = tmp_path / "pod.yaml"
    other.write_text("kind: Pod\n", encoding="utf-8")
    with pytest.raises(ValueError, match="DaskCluster"):
        mod.load_spec(other)
    out = _run_script(DEPLOY / "kubernetes" / "kubecluster.py", "--print-spec",
                      "--workers", "3")
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout) == mod.load_spec(workers=3)
    out = _run_script(DEPLOY / "kubernetes" / "kubecluster.py", "--no-wait")
    assert out.returncode == 2 and "dask-kubernetes" in out.stderr


# --------------------------------------------------------------------------- docker compose


def test_docker_compose_config():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    version = _run(docker, "compose", "version", timeout=60)
    if version.returncode != 0:
        pytest.skip("`docker compose` is not installed: "
                    + (version.stderr or version.stdout).strip().splitlines()[0])
    out = _run(docker, "compose", "-f", str(COMPOSE), "config", "--format", "json",
               timeout=120)
    assert out.returncode == 0, out.stderr
    services = json.loads(out.stdout)["services"]
    assert {"scheduler", "worker-1", "worker-2", "jupyter"} <= set(services)
    assert services["worker-1"]["command"][:3] == ["dask", "worker", "tcp://scheduler:8786"]
