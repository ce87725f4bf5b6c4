// Command mongo-server is safeline's own MongoDB-compatible server for tests, local runs and
// benchmarks. It embeds FerretDB 1.24.2 (github.com/FerretDB/FerretDB/ferretdb) over SQLite or
// PostgreSQL. scripts/build-mongo-server.sh builds it against a patched copy of the FerretDB
// module (see patches/); see shared/reference/mongodb-compat.md (steering docs) for why.
//
// Usage:
//
//	mongo-server --listen 127.0.0.1:PORT (--sqlite DIR | --postgresql URL) [--log-level warn] [--stop-on-stdin-eof]
//
// PORT may be 0: the kernel picks a free port, and the real one is printed.
//
// Contract:
//   - once the server accepts connections, exactly one line is written to stdout:
//     "ready mongodb://127.0.0.1:PORT/"; nothing else is ever written to stdout;
//   - logs go to stderr, warn level and above unless --log-level says otherwise;
//   - SIGTERM or SIGINT stops the server cleanly, exit status 0 (and so does EOF on stdin with
//     --stop-on-stdin-eof, which src/dev-services/mongo-server.ts uses so that the server never
//     outlives the Node process that started it);
//   - bad arguments: exit status 2; failure to start: exit status 1.
//
// The embedded FerretDB never starts its telemetry reporter, keeps its state in memory only
// (state.NewProvider("")), and starts no debug HTTP handler or tracing exporter, so the binary
// makes no outbound network connection (other than to the PostgreSQL URL it is given) and writes
// nothing outside the SQLite directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("mongo-server", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)

	listen := fs.String("listen", "127.0.0.1:0", "TCP address to listen on, `host:port` (port 0 picks a free port)")
	sqliteDir := fs.String("sqlite", "", "use the SQLite backend with its databases in `DIR` (created if missing)")
	pgURL := fs.String("postgresql", "", "use the PostgreSQL backend at `URL` (postgres://user@host:port/db)")
	logLevel := fs.String("log-level", "warn", "log level for FerretDB's logs on stderr: debug, info, warn or error")
	stopOnStdinEOF := fs.Bool("stop-on-stdin-eof", false, "also stop (as on SIGTERM) when stdin reaches EOF, e.g. when the parent process that holds its other end dies")

	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}

		return 2
	}

	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "mongo-server: "+format+"\n", args...)
		fs.Usage()

		return 2
	}

	if fs.NArg() != 0 {
		return usageErr("unexpected arguments: %q", fs.Args())
	}

	if (*sqliteDir == "") == (*pgURL == "") {
		return usageErr("exactly one of --sqlite or --postgresql is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("invalid --log-level %q: %s", *logLevel, err)
	}

	host, port, err := net.SplitHostPort(*listen)
	if err != nil || host == "" || port == "" {
		return usageErr("invalid --listen %q: expected host:port", *listen)
	}

	logger := slog.New(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})
	// FerretDB falls back to slog.Default() in a few places; keep those quiet too.
	slog.SetDefault(logger)

	fatal := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "mongo-server: "+format+"\n", args...)
		return 1
	}

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
	}

	switch {
	case *sqliteDir != "":
		dir, err := filepath.Abs(*sqliteDir)
		if err != nil {
			return fatal("resolving --sqlite %q: %s", *sqliteDir, err)
		}

		if err = os.MkdirAll(dir, 0o755); err != nil {
			return fatal("creating --sqlite directory: %s", err)
		}

		// FerretDB requires "file:" + an existing directory + a trailing slash.
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + (&url.URL{Path: strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/"}).EscapedPath()

	default:
		// FerretDB connects lazily and would report "ready" even when PostgreSQL is unreachable or
		// the database does not exist; check once up front so that "ready" means usable.
		if err := checkPostgreSQL(*pgURL); err != nil {
			return fatal("cannot use --postgresql: %s", err)
		}

		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if *stopOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	// New opens the TCP listener (the kernel queues connections from then on, even before Run
	// starts accepting them) and sets up the backend, so the server is reachable as soon as it
	// returns. With port 0 the kernel picks the port; MongoDBURI reports the real one.
	f, err := ferretdb.New(config)
	if err != nil {
		return fatal("starting FerretDB: %s", err)
	}

	uri, err := url.Parse(f.MongoDBURI())
	if err != nil {
		return fatal("parsing FerretDB's URI %q: %s", f.MongoDBURI(), err)
	}

	done := make(chan struct{})

	go func() {
		defer close(done)

		// Run returns once ctx is canceled and all connections and the backend are closed.
		_ = f.Run(ctx)
	}()

	if _, err = fmt.Fprintf(os.Stdout, "ready mongodb://%s/\n", uri.Host); err != nil {
		stop()
		<-done

		return fatal("writing the ready line: %s", err)
	}

	select {
	case <-ctx.Done():
		// A second signal while shutting down kills the process with the default behaviour.
		stop()
		<-done

		return 0

	case <-done:
		return fatal("FerretDB stopped unexpectedly")
	}
}

// quietHandler demotes FerretDB's per-connection chatter from WARN to DEBUG: it logs every error
// response it sends (with a full dump of the message, e.g. for each duplicate-key error, or for the
// "endSessions" command every driver sends on close and FerretDB does not implement), and a
// "Connection stopped" warning when a client disconnects abruptly or the server shuts down. The
// client sees those errors anyway. Everything else passes through unchanged.
type quietHandler struct {
	slog.Handler
}

// Handle implements slog.Handler.
func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && isConnChatter(r.Message) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}

		r.Level = slog.LevelDebug
	}

	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

func isConnChatter(msg string) bool {
	for _, prefix := range []string{"Response header:", "Response message:", "Connection stopped"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}

	return false
}

// checkPostgreSQL connects to the PostgreSQL URL once and pings it.
func checkPostgreSQL(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}

	defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it

	return conn.Ping(ctx)
}
