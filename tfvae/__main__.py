from tfvae.cli import run

run()
