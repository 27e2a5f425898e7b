"""ProcTHOR-Objaverse houses by index from a local houses file (one JSON house per line).

A benchmark episode names its house by line number (``house_index``). The file is gzip
compressed and large, so the first lookup reads it through once, remembering where each line
starts in the uncompressed stream; later lookups seek there (gzip decompresses up to that point,
without parsing anything on the way) and parse only the house asked for.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any


class HouseFile:
    """Random access to the houses in ``path`` (``.jsonl.gz`` or ``.jsonl``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._offsets: list[int] | None = None

    def __len__(self) -> int:
        return len(self._line_offsets())

    def __getitem__(self, index: int) -> dict[str, Any]:
        offsets = self._line_offsets()
        if not 0 <= index < len(offsets):
            raise IndexError(f"house_index {index} is out of range: {self.path} holds {len(offsets)} houses")
        with self._open() as handle:
            handle.seek(offsets[index])
            return json.loads(handle.readline())

    def _line_offsets(self) -> list[int]:
        if self._offsets is None:
            offsets, position = [], 0
            with self._open() as handle:
                for line in handle:
                    if line.strip():
                        offsets.append(position)
                    position += len(line)
            self._offsets = offsets
        return self._offsets

    def _open(self) -> IO[bytes]:
        return gzip.open(self.path, "rb") if self.path.suffix == ".gz" else open(self.path, "rb")
