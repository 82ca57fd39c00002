-- 006_backend_note: why a host's collector runs another fast-path backend
-- than the one it was asked for (e.g. "ebpf: the kernel has no BTF"), so
-- /api/hosts can say so next to the backend in use.
ALTER TABLE hosts ADD COLUMN backend_note TEXT NOT NULL DEFAULT '';
