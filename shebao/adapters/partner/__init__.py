"""Partner channels (e-tax bureau, government-service app, banks): the wire formats
(``wire``), the back-channel check client (``client``) and the loopback simulator."""
