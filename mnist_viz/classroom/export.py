"""The class's drawings as files for the teacher and the students: a CSV (one row per
drawing) and a ZIP of each drawing's PNG with that CSV."""

from __future__ import annotations

import csv
import io
import time
import zipfile

from mnist_viz.classroom.records import SavedDrawing
from mnist_viz.view import render


class Export:
    """Drawings as files (no database: the caller chooses which drawings)."""

    @staticmethod
    def drawings_csv(drawings: list[SavedDrawing]) -> bytes:
        """One row per drawing: id, nickname, time (UTC), source, label, answer, confidence,
        shared, and the PNG's name in the matching ZIP."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "id",
                "nickname",
                "created_utc",
                "source",
                "label",
                "predicted",
                "confidence",
                "shared",
                "png",
            ]
        )
        for d in drawings:
            writer.writerow(
                [
                    d.id,
                    d.student,
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.created)),
                    d.source,
                    "" if d.label is None else d.label,
                    d.predicted,
                    f"{d.confidence:.4f}",
                    int(d.shared),
                    f"{d.id}.png",
                ]
            )
        return buffer.getvalue().encode("utf-8")

    @staticmethod
    def drawings_zip(drawings: list[SavedDrawing]) -> bytes:
        """A ZIP of each drawing's 28 x 28 PNG (``<id>.png``) and the CSV."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("drawings.csv", Export.drawings_csv(drawings))
            for d in drawings:
                archive.writestr(
                    f"{d.id}.png", render.png(d.image, compress_level=6)
                )  # white on black, as MNIST
        return buffer.getvalue()
