#!/usr/bin/python3
"""Writes examples/iris/data.csv: Fisher's iris data (150 rows, three
species), as scikit-learn 1.2.1 bundles it, with the species as names.

    /usr/bin/python3 scripts/make_iris.py

The multiclass example project: `modelci train -c examples/iris/modelci.yaml`
fits multinomial logistic regression.
"""
import os

from sklearn.datasets import load_iris

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
iris = load_iris(as_frame=True)
df = iris.frame.rename(columns={
    "sepal length (cm)": "sepal_length", "sepal width (cm)": "sepal_width",
    "petal length (cm)": "petal_length", "petal width (cm)": "petal_width",
})
df["species"] = [iris.target_names[t] for t in iris.target]
df = df.drop(columns=["target"])
df.to_csv(os.path.join(ROOT, "examples", "iris", "data.csv"), index=False)
