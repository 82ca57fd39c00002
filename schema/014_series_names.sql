-- 014_series_names: a series' name (source, device, name) is kept once for
-- the whole fleet, and a host's series is a narrow row that points to it.
-- Hosts share their names (a few hundred per collector, the same on every
-- host with the same drivers), but each host wrote them again as text, and
-- again into the unique index: 10,000 new hosts wrote 2.55 million such
-- rows, half of the database after their first 30 s, and taking them in
-- was the largest part of a fleet's cold start (docs/ARCHITECTURE.md, A
-- fleet's first definitions). The view `series` keeps the columns every
-- reader knows.
CREATE TABLE series_names (
  id     INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  device TEXT NOT NULL,
  name   TEXT NOT NULL,
  UNIQUE (source, device, name)
);

CREATE TABLE host_series (
  id      INTEGER PRIMARY KEY,              -- the series id of drops, settings and samples
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  name_id INTEGER NOT NULL REFERENCES series_names(id),
  kind    TEXT NOT NULL,                    -- counter | gauge | setting
  layer   TEXT NOT NULL,                    -- nic | backlog | ... | traffic | config
  overlap INTEGER NOT NULL DEFAULT 0,       -- drops also counted by a more specific series
  owner   TEXT NOT NULL DEFAULT '',
  UNIQUE (host_id, name_id)
);

INSERT INTO series_names (source, device, name)
  SELECT DISTINCT source, device, name FROM series ORDER BY source, device, name;
INSERT INTO host_series (id, host_id, name_id, kind, layer, overlap, owner)
  SELECT s.id, s.host_id, n.id, s.kind, s.layer, s.overlap, s.owner FROM series s
  JOIN series_names n ON n.source = s.source AND n.device = s.device AND n.name = s.name;
DROP TABLE series;

CREATE VIEW series (id, host_id, source, device, name, kind, layer, overlap, owner) AS
  SELECT s.id, s.host_id, n.source, n.device, n.name, s.kind, s.layer, s.overlap, s.owner
  FROM host_series s JOIN series_names n ON n.id = s.name_id;
