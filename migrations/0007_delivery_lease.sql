-- Who is sending a delivery, and until when that claim holds (see src/mail/lease.rs).
--
-- A delivery in `sending` belongs to the run that claimed it. Another run (a second
-- `storyline mail drain`, `digest --send`, or `serve`) leaves it alone while the claim holds;
-- it takes it back (pending, resent with the same Message-ID) only when the lease has run out,
-- or when the owner is provably gone (same machine and process namespace, and its process no
-- longer exists). The owner renews the lease while the message is on the wire.
--
-- `sending` rows from before this migration have no lease: their run was an older binary that
-- is gone by now, so they are taken back by the next run, as before.

-- The claiming run, for people: "host pid 1234 (token)"; kept after the send as who sent it last.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
-- The claiming process, for the liveness check: "linux <boot id> <pid namespace> <pid>
-- <start time>", or NULL where it cannot be checked (then only the lease's end frees it).
ALTER TABLE deliveries ADD COLUMN lease_process TEXT;
-- Unix seconds until which the claim holds; NULL unless `sending`.
ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
