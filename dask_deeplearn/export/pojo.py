"""H2O POJOs: Java scorers that extend h2o-genmodel's ``hex.genmodel.GenModel``.

:func:`download_pojo` is H2O's ``model.download_pojo(path, get_genmodel_jar,
genmodel_name)``: it writes ``<model_id>.java`` (the model id made a Java identifier, as
H2O does), the scorer of :func:`dask_deeplearn.export.java.export_java` declared as a
``GenModel`` subclass: a public no-argument constructor, ``getModelCategory``,
``getUUID``, ``isSupervised``, ``nclasses``, ``score0`` and the ``NAMES`` / ``DOMAINS``
(response domain last) genmodel reads. H2O's tools score it: compile with
``javac -cp h2o-genmodel.jar <model_id>.java`` and load it in ``EasyPredictModelWrapper``
(or ``PredictCsv --pojo``). Its ``main`` still scores a CSV from standard input.
``export_java`` keeps writing the same scorer without the ``GenModel`` parent, for users
without h2o-genmodel.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..model import FittedModel
from .java import _JAVA_KEYWORDS, _check_model, _default_class_name, java_source
from .mojo import check_bool, copy_genmodel_jar, genmodel_jar

__all__ = ["download_pojo", "pojo_class_name"]


def pojo_class_name(model: FittedModel) -> str:
    """The POJO's class name: the ``model_id`` with every character Java does not allow
    in an identifier replaced by ``_`` (H2O's rule), else a name derived from the weights."""
    if not model.model_id:
        return _default_class_name(model)
    name = re.sub(r"[^A-Za-z0-9_$]", "_", str(model.model_id))
    if not re.match(r"[A-Za-z_$]", name):
        name = "_" + name
    return name + "_" if name in _JAVA_KEYWORDS else name


def download_pojo(model: FittedModel, path: str | os.PathLike[str] = "",
                  get_genmodel_jar: bool = False, genmodel_name: str = "") -> str | None:
    """Write the model's POJO (H2O's ``download_pojo``).

    Parameters
    ----------
    model : FittedModel
        A fitted classifier, regressor or autoencoder.
    path : str or PathLike, default=""
        The folder (created if needed) that receives ``<class name>.java``. ``""`` prints
        the source to standard output instead, as H2O does.
    get_genmodel_jar : bool, default=False
        Also copy the jar with h2o-genmodel's classes into the folder (``genmodel_name``,
        default ``h2o-genmodel.jar``): the ``h2o.jar`` of the installed ``h2o`` package,
        which holds them; without that package the call is refused before anything is
        written.
    genmodel_name : str, default=""

    Returns
    -------
    str or None
        The ``.java`` file written (None when printed).

    Raises
    ------
    FileExistsError
        The ``.java`` file (or the jar) exists: it is never replaced.
    FileNotFoundError
        ``get_genmodel_jar=True`` without the ``h2o`` package.
    NotImplementedError
        A model the Java scorer cannot reproduce.
    """
    check_bool("get_genmodel_jar", get_genmodel_jar)
    fitted = _check_model(model)
    class_name = pojo_class_name(fitted)
    source = java_source(fitted, class_name, genmodel=True)
    if str(path) == "":
        if get_genmodel_jar:
            raise ValueError("get_genmodel_jar=True needs a folder: path is empty (the POJO "
                             "is printed).")
        print(source)
        return None
    folder = Path(path)
    target = folder / f"{class_name}.java"
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{str(target)!r} exists and is never replaced; choose another "
                              "folder or model_id.")
    if get_genmodel_jar:
        genmodel_jar()  # refuse before writing anything
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    if get_genmodel_jar:
        copy_genmodel_jar(folder, genmodel_name)
    return str(target)
