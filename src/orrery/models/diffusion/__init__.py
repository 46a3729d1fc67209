"""Diffusion maths kept apart from networks: EDM preconditioning and loss (`denoiser`), samplers
(`sampler`). The networks (`models.unet`, `models.dit`) know nothing of noise schedules."""
