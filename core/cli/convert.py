"""``mmplug convert SRC DST``: rewrite a checkpoint in another weight layout.

Reads any layout an installed checkpoint_format plugin recognises (pickle ``*.bin`` only with
``--allow-pickle``) and writes safetensors + config.json + processor files. Imports torch only
when run.
"""
from __future__ import annotations

import argparse

from mmplug.core.dtypes import DTYPE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="rewrite a checkpoint in another layout (e.g. pickle -> safetensors)",
        description="Convert a checkpoint directory (or Hub repo id) to safetensors in the chosen layout. "
                    "The source layout is recognised automatically.")
    parser.add_argument("source", metavar="SRC", help="checkpoint directory or Hub repo id")
    parser.add_argument("destination", metavar="DST", help="output directory")
    parser.add_argument("--layout",
                        help="layout to write: a checkpoint_format name (see `mmplug plugins`; default: the "
                             "model family's own, e.g. published for Video-LLaVA, which transformers 4.x loads)")
    parser.add_argument("--from-layout", dest="source_layout", help="force the source layout instead of detecting it")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="read pickle *.bin weights (torch.load weights_only=True); only for trusted files")
    parser.add_argument("--processor", metavar="DIR",
                        help="directory with the tokenizer/processor files to write next to the weights")
    parser.add_argument("--dtype", choices=DTYPE_NAMES,
                        help="dtype to write (default: as stored)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="adjust the config read from SRC, e.g. --set vision_encoder.num_heads=16 (repeatable)")
    parser.add_argument("--max-shard-size", default="5GB", help="largest safetensors file (default: 5GB)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mmplug.core.checkpoint import convert_checkpoint

    out = convert_checkpoint(args.source, args.destination, layout=args.layout, allow_pickle=args.allow_pickle,
                             processor=args.processor, dtype=args.dtype, max_shard_size=args.max_shard_size,
                             source_layout=args.source_layout, overrides=args.overrides)
    print(f"wrote {out} ({args.layout} layout)")
    return 0
