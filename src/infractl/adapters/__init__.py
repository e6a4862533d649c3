"""All I/O: processes, Terraform, AWS, the emulator, files. Heavy SDKs are imported inside functions."""
