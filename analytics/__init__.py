"""Pure computations on readings and ledgers: charge sessions, SOH estimate, fade and RUL, the
EKF SOC cross-check, the dealer score. numpy and pandas only: no SQL, no dash."""
