-- The catalogue schema exactly as guidang created it before migrations (create_all, commit 3fa1e96:
-- hotfolders.state.open_catalogue on SQLite), dumped from sqlite_master. Revision 0001 must upgrade it.
CREATE TABLE batches (
	id INTEGER NOT NULL,
	profile VARCHAR(100) NOT NULL,
	vendor VARCHAR(200) NOT NULL,
	name VARCHAR(255) NOT NULL,
	content_digest VARCHAR(64) NOT NULL,
	delivery INTEGER NOT NULL,
	status VARCHAR(20) NOT NULL,
	source_path TEXT NOT NULL,
	errors JSON NOT NULL,
	summary JSON NOT NULL,
	receipt_path TEXT,
	received_at DATETIME NOT NULL,
	finished_at DATETIME,
	PRIMARY KEY (id)
);
CREATE INDEX ix_batches_content_digest ON batches (content_digest);
CREATE TABLE events (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	agent VARCHAR(200) NOT NULL,
	action VARCHAR(60) NOT NULL,
	subject TEXT NOT NULL,
	detail JSON NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_at ON events (at);
CREATE TABLE watch_claims (
	id INTEGER NOT NULL,
	profile VARCHAR(100) NOT NULL,
	name TEXT NOT NULL,
	source_path TEXT NOT NULL,
	source_raw TEXT NOT NULL,
	kind VARCHAR(20) NOT NULL,
	processing_path TEXT NOT NULL,
	final_path TEXT,
	stage VARCHAR(20) NOT NULL,
	settled BOOLEAN NOT NULL,
	attempts INTEGER NOT NULL,
	crashes INTEGER NOT NULL,
	errors INTEGER NOT NULL,
	not_before DATETIME,
	worker VARCHAR(200),
	reason VARCHAR(60),
	detail JSON NOT NULL,
	last_error TEXT,
	batch_id INTEGER,
	outcome VARCHAR(20),
	summary JSON NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_watch_claims_profile ON watch_claims (profile);
CREATE INDEX ix_watch_claims_stage ON watch_claims (stage);
CREATE TABLE items (
	id INTEGER NOT NULL,
	batch_id INTEGER NOT NULL,
	archival_code VARCHAR(200) NOT NULL,
	title TEXT NOT NULL,
	"row" JSON NOT NULL,
	status VARCHAR(20) NOT NULL,
	failed_checks JSON NOT NULL,
	object_id VARCHAR(200),
	rejected_path TEXT,
	page_count INTEGER NOT NULL,
	byte_count INTEGER NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (batch_id, archival_code),
	FOREIGN KEY(batch_id) REFERENCES batches (id)
);
CREATE INDEX ix_items_archival_code ON items (archival_code);
CREATE INDEX ix_items_object_id ON items (object_id);
CREATE INDEX ix_items_batch_id ON items (batch_id);
CREATE TABLE files (
	id INTEGER NOT NULL,
	item_id INTEGER NOT NULL,
	role VARCHAR(20) NOT NULL,
	relpath TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	sm3 VARCHAR(64) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(item_id) REFERENCES items (id)
);
CREATE INDEX ix_files_item_id ON files (item_id);
CREATE TABLE decisions (
	id INTEGER NOT NULL,
	item_id INTEGER NOT NULL,
	status VARCHAR(20) NOT NULL,
	failed_checks JSON NOT NULL,
	reason TEXT NOT NULL,
	agent VARCHAR(200) NOT NULL,
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(item_id) REFERENCES items (id)
);
CREATE INDEX ix_decisions_item_id ON decisions (item_id);
CREATE TABLE check_results (
	id INTEGER NOT NULL,
	item_id INTEGER NOT NULL,
	check_id VARCHAR(40) NOT NULL,
	status VARCHAR(20) NOT NULL,
	blocking BOOLEAN NOT NULL,
	message_zh TEXT NOT NULL,
	message_en TEXT NOT NULL,
	evidence JSON NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(item_id) REFERENCES items (id)
);
CREATE INDEX ix_check_results_check_id ON check_results (check_id);
CREATE INDEX ix_check_results_item_id ON check_results (item_id);
CREATE TABLE guidang_sequence (
	prefix VARCHAR(255) NOT NULL,
	last_value INTEGER NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (prefix)
);
