"""`infractl render` and `infractl deploy`: chart values from the env model, Helm renders, and deploys."""
