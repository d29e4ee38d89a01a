"""Caffe: prototxt + caffemodel, read and written exactly (see ``schemas/caffe.proto``).

- :func:`load_caffe` reads a prototxt (TEST phase; ``layer { }`` or legacy V1 ``layers { }``) and, optionally, its
  .caffemodel into the IR.
- :func:`save_caffe` / :func:`to_caffe` write a model as a prototxt with an ``Input`` layer per graph input and a
  .caffemodel beside it holding every blob.  Deconvolutions with asymmetric pads or output_padding are written
  with a zero-extended kernel (exact); upsample layers as stock Caffe layers where an exact form exists.

Layer kinds carry their own Caffe facets (:class:`convertkit.registry.CaffeFacet`); this package is plumbing, and the
contexts those facets use live below the kinds, in :mod:`convertkit.codec.caffe`.
"""

from ...codec.caffe import DIALECTS, FILL_MISSING, CaffeEmitter, CaffeReader, CaffeWarning
from .opencv import check_caffe, output_layer_names, run_opencv
from .reader import caffe_layer_kinds, load_caffe, read_weights
from .writer import CaffeNet, caffemodel_path, save_caffe, to_caffe

__all__ = [
    # reading
    "load_caffe",
    "read_weights",
    "caffe_layer_kinds",
    "CaffeReader",
    "FILL_MISSING",
    # writing
    "to_caffe",
    "save_caffe",
    "caffemodel_path",
    "CaffeEmitter",
    "CaffeNet",
    "DIALECTS",
    "CaffeWarning",
    # running in a real Caffe runtime
    "run_opencv",
    "check_caffe",
    "output_layer_names",
]
