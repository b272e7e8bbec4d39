"""signae: two-layer autoencoders x_hat = A sign(Bx), their fundamental limits and gradient methods.

Reproduces Shevchenko, Koegler, Hassani, Mondelli, ICML 2023 (arXiv:2212.13468), and in figures 7, 8 and 10
the sparse sources, denoising decoders and phase transition of their ICML 2024 follow-up (arXiv:2402.05013); the
formulas are
numbered in docs/theory.md, and docs/api.md shows how to use them from Python. Modules, in the order
data flows through the pipeline:

- theory:          R*(r), beta(r), Shannon, PCA, Marchenko-Pastur, water-filling, hidden units of a rate
- population:      the exact population risk, optimal decoder and encoder gradient (torch)
- sparse:          the sparse sources, the posterior-mean denoiser, the axis-aligned encoder (figures 7, 10)
- universality:    the formulas of figure 5's diagnostics: the twin's exact risk, the norm correction
- linalg:          unit rows, Haar rotations, matrix powers
- device:          device choice, threads, deterministic kernels, host copies
- provenance:      versions, device, checksums, atomic JSON
- paths:           where every file lives: patterns, fill in, parse
- config:          the pipeline's configuration outside Snakemake
- spectra:         covariance spectra of Gaussian data, covariances, draws
- datasets:        the real image data sets (MNIST, CIFAR-10) as verified arrays
- images:          the preprocessed variants of a data set
- train:           projected GD, weight-tied GD, the sample-based trainer over a batch source
- runs:            the run record: identity, files, save and load with checksums, the checks before saving
- gaussian_source: Gaussian draws as batch sources, the trainers by name, a run on Gaussian data (figures 1-4)
- sparse_source:   sparse draws as a batch source, a run on sparse data, the ideal encoder's reference, a point
                   of the phase transition (figures 7, 10)
- real_source:     a data split as a batch source, the designed encoder, a run on real images (figure 5)
- denoisers:       the learned coordinate-wise denoiser, a piecewise-linear function and its exact fit
- deep_decoder:    a decoder with one hidden nonlinear layer on sparse data (figure 7, depth)
- message_passing: the sign channel's message-passing decoders by depth and their state evolution (figure 11)
- learned_message_passing: the unrolled message-passing decoder with its precisions learned (figure 11)
- real_denoiser:   the pixel-domain denoiser after the linear decoder on real images (figure 8)
- twin:            projected GD and the images' trainer on the Gaussian twin (figure 5)
- structure:       what trained encoders exploit in real images; the component-shuffle experiment (figure 9)
- evaluate:        learned spectra, decoder scale, axis alignment, learned allocation
- tables:          the tidy table behind each figure
- claims:          the claims table
- plotting:        the figures
- registry:        the figure registry and the settings of every run, which the workflow reads
- reporting:       report tables, manifest, end-of-run summary
- custody:         the chain of custody: a record per result, checked before it is read
- verify:          a results folder checked end to end against its config and code
- docs:            the generated parts of README.md and docs/
- job:             one job of the workflow: its snakemake object (also on its own), log, kept outputs
- resources:       memory and time requests of the workflow's jobs
- codedeps:        the package files each workflow script depends on
"""

__version__ = "0.1.0"
