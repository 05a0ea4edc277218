"""Model training: synthetic documents, candidate datasets and the fitted field scorers (`make train`)."""
