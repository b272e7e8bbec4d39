"""signae: two-layer autoencoders x_hat = A sign(Bx), their fundamental limits and gradient methods.

Reproduces Shevchenko, Koegler, Hassani, Mondelli, ICML 2023 (arXiv:2212.13468). Modules:

- theory:      R*(r), beta(r), Shannon, PCA, Marchenko-Pastur baseline, water-filling (scalars)
- population:  the exact population risk and optimal decoder (torch, differentiable)
- data:        covariance spectra and Gaussian samples
- train:       projected GD, weight-tied GD, sample-based GD
- evaluate:    learned spectra, decoder scale, axis alignment, learned allocation
- experiment:  one pipeline run, saved with its metadata
- tables, claims, plotting: figure tables, the claims table and the figures
"""

__version__ = "0.1.0"
