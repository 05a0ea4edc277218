"""Small shared helpers: settings, errors, money, dates, hashing, logging."""
