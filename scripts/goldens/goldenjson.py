"""Writing golden JSON files, shared by the golden generators in this folder.

One top-level list element per line keeps diffs readable without the size of
fully indented JSON. NaN and infinities are refused: Go's encoding/json
cannot read them.
"""
import json
import os
import sys


def write(root, out, name, obj):
    """Writes obj to out/name and reports the path relative to root."""
    path = os.path.join(out, name)
    parts = ["{"]
    keys = sorted(obj)
    for i, k in enumerate(keys):
        v = obj[k]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(v, list):
            parts.append("  %s: [" % json.dumps(k))
            for j, item in enumerate(v):
                sep = "," if j < len(v) - 1 else ""
                parts.append("    " + json.dumps(item, sort_keys=True, allow_nan=False) + sep)
            parts.append("  ]" + comma)
        else:
            parts.append("  %s: %s%s" % (json.dumps(k), json.dumps(v, allow_nan=False), comma))
    parts.append("}")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
    print("wrote %s (%d bytes)" % (os.path.relpath(path, root), os.path.getsize(path)), file=sys.stderr)
