#!/usr/bin/env python3
"""Fetch kustomize + kubeconform and build offline JSON schemas for deploy/k8s validation.

Everything comes from package registries (GitHub is not reachable from our machines):

* kustomize, kubeconform  -> `go install` through the Go module proxy
* Kubernetes JSON schemas -> the `kubernetes-validate` wheel on PyPI (`pip download`),
                             made standalone (kubeconform cannot follow its /api/... refs)
* KEDA CRDs               -> module zip of github.com/kedacore/keda/v2 (config/crd/bases)
* Strimzi CRDs            -> regenerated with Strimzi's own `io.strimzi:crd-generator` from
                             the `io.strimzi:api` model classes (both on Maven Central);
                             needs Java >= 21 (class file 65)

Output (under <repo>/.cache/k8s, gitignored):
  bin/kustomize, bin/kubeconform
  schemas/k8s/<kind>-<group>-<version>.json          (kubeconform {{.ResourceKind}}{{.KindSuffix}})
  schemas/crd/<group>/<kind>_<version>.json          (kubeconform {{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}})

Idempotent: each step writes a stamp with its pinned version and is skipped when the
stamp matches, so the second run takes well under a second. Exits non-zero, loudly,
when anything cannot be had. Prints the cache root on stdout's last line.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

KUSTOMIZE_VERSION = "v5.8.2"  # v5.8.3 needs go >= 1.27
KUBECONFORM_VERSION = "v0.8.0"
KUBERNETES_VALIDATE_VERSION = "1.37.0"  # PyPI wheel that ships the k8s JSON schemas
K8S_SCHEMA_VERSION = "v1.34.0"  # Kubernetes API version we validate against
KEDA_VERSION = "v2.21.0"
# Strimzi version lives in tools/strimzi-crds/pom.xml (strimzi.version); read from there.

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CACHE = Path(os.environ.get("CASESTREAM_K8S_CACHE", REPO / ".cache" / "k8s"))
BIN = CACHE / "bin"
SCHEMAS = CACHE / "schemas"

STRIMZI_KINDS = {
    "io.strimzi.api.kafka.model.kafka.Kafka": "kafka",
    "io.strimzi.api.kafka.model.nodepool.KafkaNodePool": "kafkanodepool",
    "io.strimzi.api.kafka.model.topic.KafkaTopic": "kafkatopic",
    "io.strimzi.api.kafka.model.user.KafkaUser": "kafkauser",
}
KEDA_CRDS = ["keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"]


def log(msg: str) -> None:
    print(f"[fetch-schemas] {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    print(f"[fetch-schemas] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    line = " ".join(cmd)
    log("$ " + (line if len(line) < 400 else line[:200] + " ... " + line[-150:]))
    try:
        return subprocess.run(cmd, check=True, text=True, **kw)
    except FileNotFoundError:
        die(f"{cmd[0]} not found on PATH")
    except subprocess.CalledProcessError as e:
        die(f"command failed ({e.returncode}): {' '.join(cmd)}\n{e.stdout or ''}{e.stderr or ''}")
    raise AssertionError


def stamped(name: str, value: str) -> bool:
    p = CACHE / "stamps" / name
    return p.is_file() and p.read_text() == value


def stamp(name: str, value: str) -> None:
    p = CACHE / "stamps" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(value)


def go() -> str:
    g = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not g:
        die("the go toolchain is required (tools come from the Go module proxy)")
    return g


# ---------------------------------------------------------------------------- tools
def install_tools() -> None:
    env = dict(os.environ, GOBIN=str(BIN), GOFLAGS="-mod=mod", CGO_ENABLED="0")
    env.pop("GOTOOLCHAIN", None)
    for name, mod, ver in [
        ("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", KUSTOMIZE_VERSION),
        ("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", KUBECONFORM_VERSION),
    ]:
        if stamped(f"tool-{name}", ver) and (BIN / name).is_file():
            continue
        BIN.mkdir(parents=True, exist_ok=True)
        run([go(), "install", f"{mod}@{ver}"], env=env, cwd=str(CACHE))
        stamp(f"tool-{name}", ver)


# ---------------------------------------------------------------------------- k8s
_K8S_REF = re.compile(r"^/api/_definitions\.json#/\$defs/(.+)$")


def _rewrite_refs(node, seen: set[str]):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                m = _K8S_REF.match(v)
                name = m.group(1) if m else (v[len("#/$defs/"):] if v.startswith("#/$defs/") else None)
                if name is None:
                    die(f"unexpected $ref in kubernetes-validate schema: {v}")
                seen.add(name)
                out[k] = f"#/$defs/{name}"
            else:
                out[k] = _rewrite_refs(v, seen)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, seen) for v in node]
    return node


def build_k8s_schemas() -> None:
    key = f"{KUBERNETES_VALIDATE_VERSION}/{K8S_SCHEMA_VERSION}-strict"
    out = SCHEMAS / "k8s"
    if stamped("k8s-schemas", key) and out.is_dir():
        return
    dl = CACHE / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = glob.glob(str(dl / f"kubernetes_validate-{KUBERNETES_VALIDATE_VERSION}-*.whl"))
    if not wheels:
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", str(dl), f"kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}"])
        wheels = glob.glob(str(dl / f"kubernetes_validate-{KUBERNETES_VALIDATE_VERSION}-*.whl"))
    if not wheels:
        die("kubernetes-validate wheel not downloaded")
    prefix = f"kubernetes_validate/kubernetes-json-schema/{K8S_SCHEMA_VERSION}-local-strict/"
    with zipfile.ZipFile(wheels[0]) as z:
        names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith(".json")]
        if not names:
            die(f"{prefix} not in {wheels[0]}")
        files = {n[len(prefix):]: json.loads(z.read(n)) for n in names}
    defs = files.pop("_definitions.json")["$defs"]
    defs_rewritten: dict[str, object] = {}
    def_refs: dict[str, set[str]] = {}
    for name, d in defs.items():
        s: set[str] = set()
        defs_rewritten[name] = _rewrite_refs(d, s)
        def_refs[name] = s
    tmp = out.with_name("k8s.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    count = 0
    for fname, schema in files.items():
        if not schema.get("x-kubernetes-group-version-kind") or fname == "all.json":
            continue
        seen: set[str] = set()
        body = _rewrite_refs(schema, seen)
        todo, closure = list(seen), set()
        while todo:
            n = todo.pop()
            if n in closure:
                continue
            if n not in defs_rewritten:
                die(f"dangling $ref {n} in {fname}")
            closure.add(n)
            todo.extend(def_refs[n] - closure)
        body.pop("$id", None)
        body["$defs"] = {n: defs_rewritten[n] for n in sorted(closure)}
        (tmp / fname).write_text(json.dumps(body))
        count += 1
    if count < 50:
        die(f"only {count} kubernetes schemas generated")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log(f"{count} standalone Kubernetes {K8S_SCHEMA_VERSION} schemas in {out}")
    stamp("k8s-schemas", key)


# ---------------------------------------------------------------------------- CRDs
def _strict(node):
    """openAPIV3Schema -> JSON schema: strict objects (like openapi2jsonschema --strict)."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items()}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    node.pop("nullable", None)
    if node.get("x-kubernetes-int-or-string"):
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        node["additionalProperties"] = False
    return node


def crd_to_schemas(crd_file: Path) -> int:
    n = 0
    for crd in yaml.safe_load_all(crd_file.read_text()):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if not v.get("served", True):
                continue
            schema = _strict(copy.deepcopy(v["schema"]["openAPIV3Schema"]))
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{group}/{v['name']}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            # CRD schemas leave metadata as a bare object; use the real ObjectMeta rules.
            props["metadata"] = {"type": "object", "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            }}
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
            schema["$schema"] = "http://json-schema.org/draft-07/schema#"
            dest = SCHEMAS / "crd" / group / f"{kind.lower()}_{v['name']}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(schema, indent=1))
            n += 1
    return n


def keda_crds() -> None:
    if stamped("keda", KEDA_VERSION):
        return
    env = dict(os.environ, GOFLAGS="-mod=mod")
    info = json.loads(run([go(), "mod", "download", "-json", f"github.com/kedacore/keda/v2@{KEDA_VERSION}"],
                          env=env, cwd=str(CACHE), capture_output=True).stdout)
    bases = Path(info["Dir"]) / "config" / "crd" / "bases"
    n = 0
    for f in KEDA_CRDS:
        if not (bases / f).is_file():
            die(f"{f} missing from the KEDA module zip ({bases})")
        n += crd_to_schemas(bases / f)
    log(f"{n} KEDA {KEDA_VERSION} schemas")
    stamp("keda", KEDA_VERSION)


def _java21() -> str:
    cands = []
    if os.environ.get("JAVA_HOME"):
        cands.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    cands += sorted(Path("/usr/lib/jvm").glob("*/bin/java"), reverse=True)
    if shutil.which("java"):
        cands.append(Path(shutil.which("java")))
    for j in cands:
        if not j.is_file():
            continue
        r = subprocess.run([str(j), "-version"], capture_output=True, text=True)
        m = re.search(r'version "(\d+)', r.stderr)
        if m and int(m.group(1)) >= 21:
            return str(j)
    die("Java >= 21 is needed to run Strimzi's crd-generator (set JAVA_HOME)")
    raise AssertionError


def strimzi_crds() -> None:
    pom = HERE / "strimzi-crds" / "pom.xml"
    ver = re.search(r"<strimzi.version>([^<]+)<", pom.read_text()).group(1)
    if stamped("strimzi", ver):
        return
    cp_file = CACHE / "strimzi-classpath.txt"
    run(["mvn", "-q", "-B", "-f", str(pom), "dependency:build-classpath",
         f"-Dmdep.outputFile={cp_file}"], capture_output=True)
    crd_dir = CACHE / "crds" / "strimzi"
    crd_dir.mkdir(parents=True, exist_ok=True)
    args = [f"{cls}={crd_dir / (short + '.yaml')}" for cls, short in STRIMZI_KINDS.items()]
    run([_java21(), "-cp", cp_file.read_text().strip(), "io.strimzi.crdgenerator.CrdGenerator",
         "--yaml", "--crd-api-version", "v1", "--api-versions", "v1", "--storage-version", "v1", *args],
        capture_output=True)
    n = sum(crd_to_schemas(crd_dir / (s + ".yaml")) for s in STRIMZI_KINDS.values())
    if n < len(STRIMZI_KINDS):
        die("Strimzi CRD generation produced too few schemas")
    log(f"{n} Strimzi {ver} schemas")
    stamp("strimzi", ver)


def main() -> int:
    if not REPO.joinpath("deploy", "k8s").is_dir():
        die(f"unexpected repo layout at {REPO}")
    CACHE.mkdir(parents=True, exist_ok=True)
    install_tools()
    build_k8s_schemas()
    keda_crds()
    strimzi_crds()
    for t in ("kustomize", "kubeconform"):
        if not os.access(BIN / t, os.X_OK):
            die(f"{BIN / t} missing")
    print(CACHE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
