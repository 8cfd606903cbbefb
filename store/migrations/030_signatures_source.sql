-- Where each previewed package came from (package, marketplace, github), so
-- the "marketplace only" policy is checked at install against what the app
-- saw, not what the install form claims.
ALTER TABLE package_verdicts ADD COLUMN source TEXT NOT NULL DEFAULT '';
