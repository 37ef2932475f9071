#!/usr/bin/python3
"""Draws GradeDesk's app icon (a checked answer sheet) so no binary icon is committed."""
import sys
from PIL import Image, ImageDraw

out = sys.argv[1] if len(sys.argv) > 1 else "src-tauri/icons/icon.png"
size = 512
img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle((32, 32, 480, 480), radius=96, fill=(37, 99, 235, 255))
d.rounded_rectangle((136, 96, 376, 416), radius=20, fill=(255, 255, 255, 255))
for y in (160, 210, 260):
    d.line((170, y, 342, y), fill=(148, 163, 184, 255), width=10)
d.line((196, 330, 240, 372), fill=(22, 163, 74, 255), width=24)
d.line((240, 372, 330, 282), fill=(22, 163, 74, 255), width=24)
img.save(out)
