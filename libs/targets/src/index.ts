// @certfleet/targets: install targets behind one interface (write atomically, back up, roll back).
export {};
