"""Documents in, validated invoice JSON out."""
