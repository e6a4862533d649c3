"""Releases built once and promoted by digest (docs/release.md).

Entry points the CLI calls: `build.build` (`infractl release build`), `promote.promote` (`infractl promote`),
`verify.verify` (`infractl release verify`), `records` (list/show, the manifest, pins and the promotion log).
Beside them: `image.py`/`base.py` (the images, daemonless), `sbom.py`, `provenance.py`, `signing.py`, `cosign.py`
(the supply-chain artefacts), `keys.py` (the signing key).
"""
