"""Operations: scheduled and due crawls, per-site locks, run recovery."""
