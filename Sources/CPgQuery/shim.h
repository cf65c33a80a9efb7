#ifndef WARDEN_CPGQUERY_SHIM_H
#define WARDEN_CPGQUERY_SHIM_H
// PostgreSQL's own parser as a library (Debian: libpg-query-dev, which ships no pkg-config file).
#include <pg_query.h>
#endif
