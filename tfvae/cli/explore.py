"""``tfvae explore``."""

from tfvae.cli.argtypes import http_url, port_number, weights_dir


def add_parser(sub):
    p = sub.add_parser("explore", help="explore the latent space in the browser (a development server)",
                       description="Serve a page that moves through the model's latent space and draws the decoder's "
                                   "answer live: sliders over the most active latent dimensions, samples from the "
                                   "prior, a label selector (cvae), a manifold map (2-D latent), test images encoded "
                                   "and interpolated. Without --serving_url the decoder and encoder are exported to a "
                                   "temporary directory and served here under TF Serving's REST API (/v1/models/...).")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    p.add_argument("--port", type=port_number, default=8000, help="TCP port (default 8000; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface)")
    p.add_argument("--serving_url", type=http_url, default=None, metavar="URL",
                   help="the page calls TF Serving's REST API at URL (e.g. http://localhost:8501, serving this "
                        "model's export as 'decoder' and 'encoder') instead of this server; TF Serving sends no "
                        "CORS headers: see the README")
    p.add_argument("--no_browser", action="store_true", help="only print the URL; do not open a browser")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.explorer import server

    return server.run_explore(args.load_weight_dir, port=args.port, host=args.host, serving_url=args.serving_url,
                              open_browser=not args.no_browser)
