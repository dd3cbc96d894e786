"""The pages people use: the office dashboard (`/dashboard/`), the technician app (`/tech/`),
sign-in and the home redirect. The top layer: it reads through the apps' selectors and writes
through their services, and nothing below imports it (docs/design.md, "Layers")."""
