"""signae: two-layer autoencoders x_hat = A sign(Bx), their fundamental limits and gradient methods.

Reproduces Shevchenko, Koegler, Hassani, Mondelli, ICML 2023 (arXiv:2212.13468), and in figures 7 and 8
the sparse sources and denoising decoders of their ICML 2024 follow-up (arXiv:2402.05013); the formulas are
numbered in docs/theory.md, and docs/api.md shows how to use them from Python. Modules, in the order
data flows through the pipeline:

- theory:        R*(r), beta(r), Shannon, PCA, Marchenko-Pastur baseline and density, water-filling
- population:    the exact population risk, optimal decoder and encoder gradient (torch)
- sparse:        the Bernoulli-Gaussian source, posterior-mean and learned denoisers (figure 7)
- linalg:        unit rows, Haar rotations, matrix powers
- device:        device choice, threads, deterministic kernels, host copies
- data:          covariance spectra and Gaussian samples
- datasets:      MNIST and CIFAR-10 as verified arrays
- realdata:      preprocessing of real images, the designed encoder, the real-data batch source
- train:         projected GD, weight-tied GD, the sample-based trainer over a batch source
- sparse_source: the Bernoulli-Gaussian batch source, figure 7's runs and decoder measurements
- denoisers:     a piecewise-linear function of each coordinate and its exact least-squares fit
- deep_decoder:  a decoder with one hidden nonlinear layer on sparse data (figure 7, depth)
- real_denoiser: the pixel-domain denoiser after the linear decoder on real images (figure 8)
- runs:          the run record: identity, paths, hidden units, save and load with checksums
- experiment:    one checked training run of the pipeline
- universality:  the Gaussian twin and the norm correction (figure 5)
- structure:     what trained encoders exploit in real images; the component-shuffle experiment (figure 9)
- evaluate:      learned spectra, decoder scale, axis alignment, learned allocation
- tables:        the tidy table behind each figure
- claims:        the claims table
- plotting:      the figures
- figures:       the figure registry the workflow reads
- reporting:     report tables, manifest, end-of-run summary
- resources:     memory and time requests of the workflow's jobs
- codedeps:      the package files each workflow script depends on
- config:        the pipeline's configuration outside Snakemake
- provenance:    versions, device, checksums, atomic JSON, job logs
- docs:          the generated parts of README.md and docs/
"""

__version__ = "0.1.0"
