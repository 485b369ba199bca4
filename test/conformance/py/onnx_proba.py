"""Probabilities of an ONNX classifier (one [N,1] input per feature: float32, or string for a
categorical feature) with onnxruntime.

    python onnx_proba.py MODEL.onnx INPUTS.json   # INPUTS: [{feature: value, ...}, ...]
"""

import json
import sys

import numpy as np
import onnxruntime as ort


def main(model, inputs_path):
    rows = json.load(open(inputs_path))
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = {
        i.name: np.array([[r[i.name]] for r in rows], dtype=object if i.type == "tensor(string)" else np.float32)
        for i in sess.get_inputs()
    }
    names = [o.name for o in sess.get_outputs()]
    out = dict(zip(names, sess.run(None, feeds)))
    proba = out.get("probabilities", out[names[-1]])
    print(json.dumps([float(p[1]) if len(p) > 1 else float(p[0]) for p in proba]))


if __name__ == "__main__":
    main(*sys.argv[1:3])
