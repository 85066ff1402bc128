#!/usr/bin/python3
"""Writes examples/house-prices/data.csv, the README's example project.

    /usr/bin/python3 scripts/make_example.py

Synthetic house prices: numeric features, one categorical feature and a few
missing values, so the example exercises imputation and one-hot encoding.
"""
import numpy as np
import pandas as pd

rng = np.random.RandomState(2024)
n = 600
sqft = rng.normal(1600, 450, n).clip(400, None).round(0)
bedrooms = rng.choice([1, 2, 3, 4, 5], n, p=[0.1, 0.25, 0.35, 0.2, 0.1])
age = rng.uniform(0, 80, n).round(1)
distance_km = rng.gamma(2.0, 4.0, n).round(2)
city = rng.choice(["berlin", "lisbon", "oslo", "paris"], n, p=[0.35, 0.25, 0.15, 0.25])
city_premium = np.select([city == "berlin", city == "lisbon", city == "oslo"], [40_000, -25_000, 15_000], 90_000)
price = (60_000 + 180 * sqft + 12_000 * bedrooms - 900 * age - 3_500 * distance_km
         + city_premium + rng.normal(0, 25_000, n)).round(0)
df = pd.DataFrame({"sqft": sqft, "bedrooms": bedrooms, "age": age,
                   "distance_km": distance_km, "city": city, "price": price})
df.loc[rng.rand(n) < 0.03, "age"] = np.nan
df.loc[rng.rand(n) < 0.01, "price"] = np.nan
df.to_csv("examples/house-prices/data.csv", index=False, na_rep="NA")
