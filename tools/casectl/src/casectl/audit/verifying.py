"""VERIFYING.md: written into every bundle, with the bundle's numbers filled in.

Every ```sh block runs as-is with bash from the bundle directory, using only
openssl, sha256sum, sed, cut, grep, xxd, base64 and cmp, and exits non-zero
on a failed check.
"""

from __future__ import annotations

from typing import Any

from casectl.audit.treehead import TreeHead

_TEMPLATE = r"""# Verifying this Casestream audit bundle

Bundle created {created_at} by casectl {tool_version}.
Scope: `{scope}` (origin `{origin}`).

| | |
|---|---|
| events (Merkle tree size) | {tree_size} |
| Merkle root | `{root}` |
| sha256 of manifest.json | `{manifest_sha}` |
| sha256 of public_key.pem | `{key_sha}` |
| cases | {cases} |

Everything below uses standard tools only: `openssl` (3.x), `sha256sum`, `sed`,
`cut`, `grep`, `xxd`, `base64`, `cmp` and `bash`. Run the blocks from this
directory; each prints `OK ...` or stops with `FAIL ...` and a non-zero status.

**Trust.** The signature proves the bundle was made with the key in
`public_key.pem`. Check that key's fingerprint (`sha256sum public_key.pem`,
here `{key_sha}`) against the one Casestream publishes out of band before
trusting anything else.

## 1. The signature over the tree head

`tree_head.txt` is the signed text; `tree_head.sig` is the raw 64-byte Ed25519
signature over exactly those bytes.

```sh
openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in tree_head.txt -sigfile tree_head.sig \
  && echo "OK signature" || {{ echo "FAIL signature"; exit 1; }}
```

## 2. The manifest is the signed one

Line 4 of `tree_head.txt` is the sha256 of `manifest.json`.

```sh
want=$(sed -n 4p tree_head.txt)
got=$(sha256sum manifest.json | cut -d' ' -f1)
if [ "$got" = "$want" ]; then echo "OK manifest $got"; else echo "FAIL manifest: $got, signed $want"; exit 1; fi
```

## 3. The data files are the ones the manifest names

```sh
for pair in events.jsonl:events_jsonl_sha256 decoded.jsonl:decoded_jsonl_sha256 \
            leaves.txt:leaves_txt_sha256 public_key.pem:public_key_sha256; do
  f=${{pair%%:*}}; k=${{pair#*:}}
  want=$(sed -n "s/^  \"$k\": \"\([0-9a-f]\{{64\}}\)\",\{{0,1\}}$/\1/p" manifest.json)
  got=$(sha256sum "$f" | cut -d' ' -f1)
  if [ -n "$want" ] && [ "$got" = "$want" ]; then echo "OK $f"; else echo "FAIL $f: $got, manifest $want"; exit 1; fi
done
```

## 4. One case's hash chain, by hand

Each line of `events.jsonl` is one record; `value_b64` is the stored value
(the serialized protobuf, exactly the bytes that were hashed). For each event of
a case, in order: `cs_hash = sha256(hex-decoded cs_prev_hash || value)`, and the
next event's `cs_prev_hash` is this `cs_hash`. The first event of a case has a
`cs_prev_hash` of 64 zeros. Here, case `{case_id}` ({case_count} events,
cs_seq {case_first}..{case_last}{case_note}):

```sh
CASE='{case_id_sh}'
prev='{case_anchor}'
n=0
while IFS= read -r line; do
  value=$(printf '%s\n' "$line" | sed 's/.*"value_b64":"\([^"]*\)".*/\1/')
  p=$(printf '%s\n' "$line" | sed 's/.*"cs_prev_hash":"\([0-9a-f]*\)".*/\1/')
  h=$(printf '%s\n' "$line" | sed 's/.*"cs_hash":"\([0-9a-f]*\)".*/\1/')
  [ "$p" = "$prev" ] || {{ echo "FAIL link: cs_prev_hash $p, expected $prev"; exit 1; }}
  got=$( {{ printf '%s' "$p" | xxd -r -p; printf '%s' "$value" | base64 -d; }} | sha256sum | cut -d' ' -f1)
  [ "$got" = "$h" ] || {{ echo "FAIL hash: computed $got, record says $h"; exit 1; }}
  prev=$h; n=$((n+1))
done < <(grep -F "\"ce_subject\":\"$CASE\"" events.jsonl)
if [ "$n" -eq {case_count} ] && [ "$prev" = '{case_last_hash}' ]; then
  echo "OK chain of $CASE: $n events, last cs_hash $prev"
else
  echo "FAIL chain of $CASE: $n events, last $prev"; exit 1
fi
```

## 5. The Merkle root

Leaf `i` is `sha256(0x00 || line i of events.jsonl without its newline)`
(RFC 6962); `leaves.txt` lists them. Interior nodes are
`sha256(0x01 || left || right)`. Pairing neighbours level by level and carrying
an unpaired last node up unchanged gives the RFC 6962 tree. This is slow (two
`sha256sum` calls per event) but needs nothing else:

```sh
tmp=$(mktemp)
while IFS= read -r line; do
  {{ printf '\000'; printf '%s' "$line"; }} | sha256sum | cut -d' ' -f1
done < events.jsonl > "$tmp"
cmp -s "$tmp" leaves.txt || {{ echo "FAIL leaves.txt differs from the leaves of events.jsonl"; rm -f "$tmp"; exit 1; }}
mapfile -t level < "$tmp"; rm -f "$tmp"
size=${{#level[@]}}
if [ "$size" -eq 0 ]; then level=( "$(printf '' | sha256sum | cut -d' ' -f1)" ); fi
while [ "${{#level[@]}}" -gt 1 ]; do
  next=(); i=0; c=${{#level[@]}}
  while [ $((i + 1)) -lt "$c" ]; do
    next+=( "$( {{ printf '\001'; printf '%s%s' "${{level[i]}}" "${{level[i+1]}}" | xxd -r -p; }} | sha256sum | cut -d' ' -f1)" )
    i=$((i + 2))
  done
  if [ "$i" -lt "$c" ]; then next+=( "${{level[i]}}" ); fi
  level=( "${{next[@]}}" )
done
if [ "$size" = "$(sed -n 2p tree_head.txt)" ] && [ "${{level[0]}}" = "$(sed -n 3p tree_head.txt)" ]; then
  echo "OK Merkle root ${{level[0]}} over $size events"
else
  echo "FAIL Merkle root ${{level[0]}} over $size events; signed: $(sed -n 2p tree_head.txt) $(sed -n 3p tree_head.txt)"; exit 1
fi
```

With steps 1 to 5 passing, every byte of `events.jsonl`, `decoded.jsonl`,
`leaves.txt` and `manifest.json` is covered by the signature. `casectl audit
verify` additionally re-checks every case chain, the per-partition offsets and
counts and the case summary in the manifest.

## Format (casestream-audit-bundle, version 1)

- `events.jsonl`: one record per line, in (topic, partition, offset) order,
  encoded as JSON with sorted keys, no spaces, ASCII only (`\uXXXX` escapes):
  `{{"headers":{{name: text}},"key_b64":…,"offset":…,"partition":…,"timestamp":…,"topic":…,"value_b64":…}}`.
  `value_b64` and `key_b64` are standard base64 of the stored bytes;
  `timestamp` is the Kafka record timestamp in milliseconds; headers are the
  record's CloudEvents binary-mode headers (`ce_*`) and `cs_seq`, `cs_prev_hash`,
  `cs_hash`, as UTF-8 text.
- `decoded.jsonl`: line N is `{{"decoded":…,"offset":…,"partition":…,"topic":…}}`,
  a readable view of line N's value (informative; bound by its sha256 in the
  manifest, not part of the Merkle leaves).
- `leaves.txt`: line N is the hex leaf hash of `events.jsonl` line N.
- `manifest.json`: format, tool version, creation time, scope, origin, counts,
  first/last offsets per partition, a summary per case (first/last cs_seq,
  count, anchor prev hash, last hash) and the sha256 of the files above.
- `tree_head.txt`: four lines, each ending in `\n`: `casestream-audit-v1`, the
  tree size (decimal), the root hash (64 lowercase hex), the sha256 of
  `manifest.json` (64 lowercase hex).
- `tree_head.sig`: raw 64-byte Ed25519 signature (RFC 8032) over `tree_head.txt`.
- `tree_head.json`: the same tree head for programs.
- `public_key.pem`: the Ed25519 public key (SubjectPublicKeyInfo PEM).
- Auditor checkpoints use the same signature over four lines:
  `casestream-checkpoint-v1`, the origin (`topic/partition`), the tree size and
  the root hash.
"""


def _sh_single_quoted(s: str) -> str:
    return s.replace("'", "'\\''")


def render_verifying_md(*, manifest: dict[str, Any], head: TreeHead, example_case: dict[str, Any] | None) -> str:
    import json

    if example_case is None:  # an empty bundle: the chain step checks that there is nothing
        example_case = {"case_id": "(none)", "count": 0, "anchor_prev_hash": "0" * 64, "last_hash": "0" * 64,
                        "first_seq": 0, "last_seq": 0}
    partial = example_case["first_seq"] > 1
    note = (
        f"; the bundle starts part-way through this case, so the chain is anchored at the first event's "
        f"cs_prev_hash `{example_case['anchor_prev_hash']}`"
        if partial
        else ""
    )
    return _TEMPLATE.format(
        created_at=manifest["created_at"],
        tool_version=manifest["tool_version"],
        scope=json.dumps(manifest["scope"], sort_keys=True),
        origin=manifest["origin"],
        tree_size=head.tree_size,
        root=head.root_hash.hex(),
        manifest_sha=head.manifest_sha256,
        key_sha=manifest["public_key_sha256"],
        cases=manifest["counts"]["cases"],
        case_id=example_case["case_id"],
        case_id_sh=_sh_single_quoted(example_case["case_id"]),
        case_count=example_case["count"],
        case_first=example_case["first_seq"],
        case_last=example_case["last_seq"],
        case_note=note,
        case_anchor=example_case["anchor_prev_hash"],
        case_last_hash=example_case["last_hash"],
    )
