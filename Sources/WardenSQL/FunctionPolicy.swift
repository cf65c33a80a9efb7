import WardenCore

/// What a function call in SQL does to a statement's classification.
///
/// Three lists per dialect: functions that only compute (nothing added), functions that reach
/// outside the database or into other sessions (the text is refused: no grant on a database should
/// cover running programs, reading server files or loading code), and a few with a kind of their
/// own. Every other function, user-defined or unknown, makes the statement also a `write`: a
/// function warden does not know may do anything the database lets it.
enum FunctionPolicy {
  enum Effect: Equatable {
    case harmless
    case operation(String)
    case refused
  }

  /// `name` as the parser reports it: SQLite's function names compare case-insensitively, PostgreSQL's
  /// parser has folded unquoted ones (a quoted `"Now"` is not `now`).
  static func effect(of name: String, dialect: SQLDialect) -> Effect {
    switch dialect {
    case .sqlite:
      let name = asciiLowercased(name)
      if sqliteHarmless.contains(name) { return .harmless }
      if sqliteRefused.contains(name) { return .refused }
      return .operation("write")
    case .postgres:
      if postgresHarmless.contains(name) { return .harmless }
      if postgresRefused.contains(name) || name.hasPrefix("dblink") || name.hasPrefix("lo_")
        || name.hasPrefix("pg_read_") || name.hasPrefix("pg_ls_") || name.hasPrefix("pg_file_")
      {
        return .refused
      }
      if postgresSettings.contains(name) { return .operation("set") }
      return .operation("write")
    }
  }

  /// SQLite's core scalar, aggregate, window, date, math and JSON functions.
  static let sqliteHarmless: Set<String> = [
    // Core scalar functions.
    "abs", "changes", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif",
    "instr", "last_insert_rowid", "length", "like", "likelihood", "likely", "lower", "ltrim", "max",
    "min", "nullif", "octet_length", "printf", "quote", "random", "randomblob", "replace", "round",
    "rtrim", "sign", "soundex", "sqlite_compileoption_get", "sqlite_compileoption_used",
    "sqlite_source_id", "sqlite_version", "substr", "substring", "total_changes", "trim", "typeof",
    "unhex", "unicode", "unlikely", "upper", "zeroblob",
    // Aggregates.
    "avg", "count", "group_concat", "string_agg", "sum", "total",
    // Window functions.
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    // Date and time.
    "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff",
    // Math.
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
    // JSON.
    "json", "jsonb", "json_array", "jsonb_array", "json_array_length", "json_error_position",
    "json_extract", "jsonb_extract", "json_insert", "jsonb_insert", "json_object", "jsonb_object",
    "json_patch", "jsonb_patch", "json_pretty", "json_remove", "jsonb_remove", "json_replace",
    "jsonb_replace", "json_set", "jsonb_set", "json_type", "json_valid", "json_quote",
    "json_group_array", "jsonb_group_array", "json_group_object", "jsonb_group_object", "json_each",
    "json_tree",
    // Full-text search auxiliaries, on tables the statement already names.
    "match", "highlight", "snippet", "bm25", "offsets", "matchinfo",
  ]

  /// SQLite functions that load code, reach files or change how the connection parses.
  static let sqliteRefused: Set<String> = [
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "fts5", "lsdir", "fsdir",
    "zipfile", "sqlar_compress", "sqlar_uncompress", "shell", "system", "eval", "sqlite_dbpage",
  ]

  /// PostgreSQL's common functions that compute values and change nothing.
  static let postgresHarmless: Set<String> = [
    // Conditionals and comparison.
    "coalesce", "nullif", "greatest", "least", "num_nulls", "num_nonnulls",
    // Strings.
    "ascii", "bit_length", "btrim", "char_length", "character_length", "chr", "concat", "concat_ws",
    "convert_from", "convert_to", "decode", "encode", "format", "initcap", "left", "length", "lower",
    "lpad", "ltrim", "md5", "normalize", "octet_length", "overlay", "position", "quote_ident",
    "quote_literal", "quote_nullable", "regexp_count", "regexp_instr", "regexp_like", "regexp_match",
    "regexp_matches", "regexp_replace", "regexp_split_to_array", "regexp_split_to_table",
    "regexp_substr", "repeat", "replace", "reverse", "right", "rpad", "rtrim", "split_part",
    "starts_with", "string_to_array", "string_to_table", "strpos", "substr", "substring",
    "to_ascii", "to_hex", "translate", "trim", "upper", "sha224", "sha256", "sha384", "sha512",
    "unistr", "array_to_string", "like", "ilike",
    // Numbers.
    "abs", "cbrt", "ceil", "ceiling", "degrees", "div", "exp", "factorial", "floor", "gcd", "lcm",
    "ln", "log", "log10", "min_scale", "mod", "pi", "power", "radians", "round", "scale", "sign",
    "sqrt", "trim_scale", "trunc", "width_bucket", "random", "acos", "asin", "atan", "atan2", "cos",
    "cot", "sin", "tan", "acosd", "asind", "atand", "atan2d", "cosd", "cotd", "sind", "tand", "sinh",
    "cosh", "tanh", "asinh", "acosh", "atanh", "to_char", "to_number", "to_date", "to_timestamp",
    // Dates and times.
    "age", "clock_timestamp", "current_date", "current_time", "current_timestamp", "date_bin",
    "date_part", "date_trunc", "extract", "isfinite", "justify_days", "justify_hours",
    "justify_interval", "localtime", "localtimestamp", "make_date", "make_interval", "make_time",
    "make_timestamp", "make_timestamptz", "now", "statement_timestamp", "timeofday",
    "transaction_timestamp", "timezone", "overlaps",
    // Aggregates and window functions.
    "array_agg", "avg", "bit_and", "bit_or", "bit_xor", "bool_and", "bool_or", "count", "every",
    "max", "min", "string_agg", "sum", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
    "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count", "regr_intercept",
    "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "stddev", "stddev_pop", "stddev_samp",
    "variance", "var_pop", "var_samp", "mode", "percentile_cont", "percentile_disc", "rank",
    "dense_rank", "percent_rank", "cume_dist", "row_number", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value", "grouping",
    // Arrays and set-returning helpers.
    "array_append", "array_cat", "array_dims", "array_fill", "array_length", "array_lower",
    "array_ndims", "array_position", "array_positions", "array_prepend", "array_remove",
    "array_replace", "array_upper", "cardinality", "unnest", "generate_series", "generate_subscripts",
    "trim_array",
    // JSON.
    "to_json", "to_jsonb", "array_to_json", "row_to_json", "json_build_array", "jsonb_build_array",
    "json_build_object", "jsonb_build_object", "json_object", "jsonb_object", "json_array_length",
    "jsonb_array_length", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text",
    "json_extract_path", "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text",
    "json_object_keys", "jsonb_object_keys", "json_populate_record", "jsonb_populate_record",
    "json_populate_recordset", "jsonb_populate_recordset", "json_array_elements",
    "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text", "json_typeof",
    "jsonb_typeof", "json_to_record", "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset",
    "json_strip_nulls", "jsonb_strip_nulls", "jsonb_set", "jsonb_set_lax", "jsonb_insert",
    "jsonb_pretty", "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query",
    "jsonb_path_query_array", "jsonb_path_query_first",
    // Session information that changes nothing.
    "current_database", "current_schema", "current_schemas", "current_user", "session_user",
    "current_role", "user", "version", "pg_backend_pid", "inet_client_addr", "inet_client_port",
    "current_setting", "pg_typeof", "col_description", "obj_description", "format_type",
    "pg_get_viewdef", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_expr", "pg_table_size",
    "pg_relation_size", "pg_total_relation_size", "pg_indexes_size", "pg_size_pretty",
    "pg_database_size", "has_table_privilege", "has_schema_privilege", "has_database_privilege",
    "has_column_privilege", "has_function_privilege", "pg_table_is_visible", "gen_random_uuid",
    "uuid_generate_v4", "txid_current_if_assigned", "pg_current_xact_id_if_assigned",
  ]

  /// PostgreSQL functions that reach files, programs, other servers or other sessions, or run SQL text
  /// given as a string (which warden cannot see into).
  static let postgresRefused: Set<String> = [
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_terminate_backend",
    "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_switch_wal",
    "pg_create_restore_point", "pg_start_backup", "pg_stop_backup", "pg_backup_start",
    "pg_backup_stop", "pg_logical_emit_message", "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot", "pg_drop_replication_slot", "pg_replication_origin_create",
    "pg_import_system_collations", "pg_file_write", "pg_file_unlink", "pg_file_rename", "query_to_xml",
    "query_to_xml_and_xmlschema", "table_to_xml",
    "cursor_to_xml", "database_to_xml", "schema_to_xml", "query_to_json",
  ]

  /// PostgreSQL functions that change session settings.
  static let postgresSettings: Set<String> = ["set_config"]
}

/// `A`-`Z` lowercased, every other byte kept: the case folding of SQLite's identifiers and of
/// PostgreSQL's unquoted ones in UTF-8 databases.
func asciiLowercased(_ text: String) -> String {
  guard text.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return text }
  return String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
}
