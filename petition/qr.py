"""QR codes as vector SVG, for print.

The symbol is drawn as one SVG path of region outlines (no raster, no per-module element), so
it stays sharp at any print size and costs little to lay out.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

# The quiet zone the standard asks for (4 modules); a narrower one fails on busy walls.
QUIET_ZONE = 4

EC_LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}


@dataclass(frozen=True)
class QRCode:
    data: str
    version: int
    ec: str
    loops: list[list[tuple[int, int]]]  # outline of the dark regions, in modules

    @property
    def modules(self) -> int:
        return 17 + 4 * self.version

    @property
    def svg(self) -> str:
        """An inline <svg> element (the browser preview); scales to its CSS box."""
        size = self.modules + 2 * QUIET_ZONE
        path = []
        for loop in self.loops:
            (x0, y0), rest = loop[0], loop[1:]
            part = [f"M{x0 + QUIET_ZONE} {y0 + QUIET_ZONE}"]
            px, py = x0, y0
            for x, y in rest:
                part.append(f"h{x - px}" if y == py else f"v{y - py}")
                px, py = x, y
            path.append("".join(part) + "z")
        return (
            f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'role="img" aria-hidden="true">'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(path)}"/></svg>'
        )

    def pdf_ops(self, x: float, y: float, width: float) -> str:
        """PDF operators drawing the symbol (quiet zone included) in the square at (x, y)
        of side `width`, in a y-downwards space: one path, filled once (nonzero)."""
        scale = width / (self.modules + 2 * QUIET_ZONE)
        ox, oy = x + QUIET_ZONE * scale, y + QUIET_ZONE * scale
        ops = [f"q {scale:.5f} 0 0 {scale:.5f} {ox:.3f} {oy:.3f} cm 0 g"]
        for loop in self.loops:
            (x0, y0), rest = loop[0], loop[1:]
            ops.append(f"{x0} {y0} m " + " ".join(f"{px} {py} l" for px, py in rest) + " h")
        ops.append("f Q")
        return " ".join(ops)


def qr_matrix(data: str, ec: str) -> tuple[list[list[bool]], int]:
    """The module matrix (without quiet zone) and the version the data needed."""
    code = qrcode.QRCode(version=None, error_correction=EC_LEVELS[ec], border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix(), code.version


def outline_loops(matrix: list[list[bool]]) -> list[list[tuple[int, int]]]:
    """The outline of each connected dark region as one closed loop of corner points.

    Drawing modules (or row runs) as separate shapes leaves hairline seams where they touch
    once a rasterizer anti-aliases them, which is enough to make some decoders fail. The
    boundary between dark and light is collected as maximal straight segments, oriented so
    that dark lies on their right (clockwise around dark regions, counter-clockwise around
    holes, which the nonzero fill rule then leaves empty), and chained into closed loops.
    """
    size = len(matrix)
    blank = [False] * size
    rows = [blank, *matrix, blank]  # rows[y + 1] is matrix row y; light outside
    nexts: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(a: tuple[int, int], b: tuple[int, int]) -> None:
        nexts.setdefault(a, []).append(b)

    # Horizontal boundaries: between matrix rows y-1 and y, at height y.
    for y in range(size + 1):
        above, below = rows[y], rows[y + 1]
        x = 0
        while x < size:
            top = below[x] and not above[x]  # dark below: edge runs left to right
            bottom = above[x] and not below[x]  # dark above: edge runs right to left
            if not (top or bottom):
                x += 1
                continue
            start = x
            while (
                x < size
                and (below[x] and not above[x]) == top
                and (above[x] and not below[x]) == bottom
            ):
                x += 1
            if top:
                add((start, y), (x, y))
            else:
                add((x, y), (start, y))
    # Vertical boundaries: between columns x-1 and x, at abscissa x.
    for x in range(size + 1):
        y = 0
        while y < size:
            row = matrix[y]
            left = x > 0 and row[x - 1]
            right = x < size and row[x]
            if left == right:
                y += 1
                continue
            start = y
            while y < size:
                row = matrix[y]
                if ((x > 0 and row[x - 1]), (x < size and row[x])) != (left, right):
                    break
                y += 1
            if left:  # dark on the left: edge runs downwards
                add((x, start), (x, y))
            else:
                add((x, y), (x, start))
    loops = []
    while nexts:
        first = next(iter(nexts))
        loop = [first]
        point = first
        while True:
            targets = nexts[point]
            target = targets.pop()
            if not targets:
                del nexts[point]
            if target == first:
                break
            loop.append(target)
            point = target
        loops.append(loop)
    return loops


def qr_svg(data: str, ec: str = "Q") -> QRCode:
    """The symbol for `data`: `.svg` for a page, `.pdf_ops()` for a PDF."""
    matrix, version = qr_matrix(data, ec)
    return QRCode(data=data, version=version, ec=ec, loops=outline_loops(matrix))
