# continuum-uniffi from Ruby, through the module uniffi-bindgen generates (Ruby's ffi gem
# over the library's C ABI).
#
# bindings/uniffi/run-tests.sh builds the library, generates continuum_uniffi.rb into
# target/uniffi-generated/ruby/ (next to a copy of libcontinuum_uniffi.so, found through
# LD_LIBRARY_PATH) and runs this file. Against the live PostgreSQL server
# (CONTINUUM_TEST_PG_URL) and the live S3 server (CONTINUUM_TEST_S3_ENDPOINT): without them the
# tests that need them fail. Databases and buckets get unique names; databases are dropped.

require 'fileutils'
require 'json'
require 'minitest/autorun'
require 'net/http'
require 'open3'
require 'securerandom'
require 'tmpdir'
require 'uri'

ROOT = File.expand_path('../../..', __dir__)
GENERATED = ENV.fetch('CONTINUUM_UNIFFI_GENERATED', File.join(ROOT, 'target', 'uniffi-generated'))
require File.join(GENERATED, 'ruby', 'continuum_uniffi')

CU = ContinuumUniffi
Err = ContinuumUniffi::ContinuumError

DEMO_CONF = File.join(ROOT, 'examples', 'demo-cluster', 'cluster.conf')

# A cluster whose only database is the orchestrator's (mapped to a unique name).
SMALL_CONF = <<~CONF
  machines: { central: { hosts: ["10.0.0.11"], suitable_tags: ["api-server", "redis-server"] } }
  components: { api-server: 1, redis-server: 1 }
  chef: { continuum: { cluster_name: uniffi-rb } }
CONF
POLICY = "on job::/sandbox/tom { { permit read } }\n"

def pg_url
  url = ENV.fetch('CONTINUUM_TEST_PG_URL', '')
  raise 'CONTINUUM_TEST_PG_URL is not set: these tests need a live PostgreSQL server' if url.empty?

  url
end

def s3_endpoint
  endpoint = ENV.fetch('CONTINUUM_TEST_S3_ENDPOINT', '')
  raise 'CONTINUUM_TEST_S3_ENDPOINT is not set: these tests need a live S3 server' if endpoint.empty?

  endpoint
end

def url_for(base, database)
  uri = URI.parse(base)
  uri.path = "/#{database}"
  uri.to_s
end

def psql(url, sql)
  out, err, status = Open3.capture3('psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
                                    '-d', url, '-c', sql)
  raise "psql #{sql}: #{err}" unless status.success?

  out.strip
end

# A progress listener that keeps every report.
class Recorder
  attr_reader :seen

  def initialize
    @seen = []
  end

  def on_progress(progress)
    @seen << progress
  end
end

# A progress listener that fails at once, with `error`.
class Raiser
  attr_reader :calls

  def initialize(error)
    @error = error
    @calls = 0
  end

  def on_progress(_progress)
    @calls += 1
    raise @error
  end
end

class UniffiTest < Minitest::Test
  def setup
    @tmp = Dir.mktmpdir('continuum-uniffi-rb-')
    @databases = []
  end

  def teardown
    @databases.each { |db| psql(pg_url, "DROP DATABASE IF EXISTS \"#{db}\" WITH (FORCE)") }
    FileUtils.rm_rf(@tmp)
  end

  def path(*parts)
    File.join(@tmp, *parts)
  end

  # A new database with a unique name (dropped at the end), with `rows` rows.
  def database(prefix, rows)
    name = "cb_uf_rb_#{prefix}_#{SecureRandom.hex(5)}"
    @databases << name
    psql(pg_url, "CREATE DATABASE \"#{name}\"")
    psql(url_for(pg_url, name),
         'CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);' \
         "INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, #{rows}) i;")
    name
  end

  def small_cluster(name)
    cluster = path(name)
    FileUtils.mkdir_p(File.join(cluster, 'policy'))
    File.write(File.join(cluster, 'cluster.conf'), SMALL_CONF)
    File.write(File.join(cluster, 'main.tf'), "resource \"aws_instance\" \"central\" {}\n")
    File.write(File.join(cluster, 'policy', 'root.pol'), POLICY)
    cluster
  end

  # A gzip tarball holding one file: a package layer.
  def layer(name, member, text)
    source = path("#{name}.src")
    FileUtils.mkdir_p(File.join(source, File.dirname(member)))
    File.write(File.join(source, member), text)
    tarball = path("#{name}.tar.gz")
    system('tar', '-czf', tarball, '-C', source, member, exception: true)
    tarball
  end

  # --- FQN ------------------------------------------------------------------------------

  def test_fqn_parse
    fqn = CU::Fqn.parse('package::/apcera/pkg/runtimes::go-1.5.1')
    assert_equal 'package', fqn.resource_type
    assert_equal '/apcera/pkg/runtimes', fqn.namespace
    assert_equal 'go-1.5.1', fqn.local_name
    refute fqn.is_realm
    assert_equal 'package::/acme::go-1.5.1', fqn.with_namespace('/acme').text
    assert_equal 'job::/apcera::guide', CU::Fqn.parse('/apcera::guide', 'job').text
    assert CU::Fqn.parse('job::/sandbox/tom').is_realm
  end

  def test_fqn_errors
    error = assert_raises(Err::InvalidInput) { CU::Fqn.parse('no-namespace') }
    assert_kind_of StandardError, error
    assert_includes error.message, 'invalid FQN `no-namespace`'
    assert_raises(Err::InvalidInput) { CU::Fqn.parse('/apcera::x', 'no-such-type') }
  end

  # --- stores ---------------------------------------------------------------------------

  def round_trip(store)
    files = [path('cluster.conf'), path('main.tf')]
    File.write(files[0], "a: 1\n")
    File.write(files[1], "b = 2\n")
    manifest = store.create_set(files, CU::SetSpec.new(reason: 'daily', cluster_name: 'uniffi'))
    assert_equal 'daily', manifest.reason
    assert_equal 'uniffi', manifest.cluster_name
    assert_equal 2, manifest.artifacts.length
    assert_equal manifest.set_id, JSON.parse(manifest.json)['set_id']

    assert_equal [manifest.set_id], store.list_sets.map(&:set_id)
    report = store.verify_set(manifest.set_id)
    assert report.ok
    assert_equal %w[ok ok], report.artifacts.map(&:status)
    assert_equal manifest.artifacts.sum(&:size), report.bytes_checked

    pruned = store.prune(CU::PruneSettings.new(keep_last: 1, dry_run: true))
    assert pruned.dry_run
    assert_equal [true], pruned.decisions.map(&:keep)

    assert_raises(Err::NotFound) { store.verify_set('20000101T000000Z-00000000') }
    assert_raises(Err::InvalidInput) { store.prune(CU::PruneSettings.new) }
  end

  def test_folder_store_round_trip
    store = CU::Store.open(path('store'))
    assert_includes store.url, 'store'
    round_trip(store)
  end

  def test_s3_store_round_trip
    bucket = "continuum-uniffi-rb-#{SecureRandom.hex(6)}"
    # moto takes requests without signatures.
    uri = URI.parse("#{s3_endpoint}/#{bucket}")
    response = Net::HTTP.start(uri.host, uri.port) { |http| http.request(Net::HTTP::Put.new(uri)) }
    assert_equal '200', response.code
    settings = CU::S3Settings.new(endpoint: s3_endpoint, region: 'us-east-1', path_style: true,
                                  access_key_id: 'testing', secret_access_key: 'testing')
    store = CU::Store.open("s3://#{bucket}/prefix", settings)
    assert_equal "s3://#{bucket}/prefix", store.url
    round_trip(store)
  end

  # --- policy ---------------------------------------------------------------------------

  def test_policy_check_parse_and_format
    check = CU.policy_check("on job::/sandbox/tom { { permit fly } }\n", 'doc.pol')
    assert check.ok
    assert_equal 1, check.diagnostics.length
    warning = check.diagnostics.first
    assert_equal CU::DiagnosticSeverity::WARNING, warning.severity
    assert_equal ['doc.pol', 1, 26], [warning.file, warning.line, warning.column]
    assert_includes warning.message, '`fly`'
    assert_includes warning.rendered, 'doc.pol:1:26'

    broken = CU.policy_check("on job::/sandbox/tom { { permit read }\n", 'broken.pol')
    refute broken.ok
    assert_equal CU::DiagnosticSeverity::ERROR, broken.diagnostics.first.severity
    assert_equal 2, broken.diagnostics.first.line

    error = assert_raises(Err::Policy) do
      CU.policy_parse("on job::/sandbox/tom { { permit read }\n", 'broken.pol')
    end
    assert_includes error.message, 'broken.pol:2:1: error:'

    doc = CU.policy_parse(POLICY, 'root')
    assert_equal 'root', doc.name
    assert_equal ['job::/sandbox/tom'], doc.realms

    formatted = CU.policy_format('on job::/sandbox/tom {   {permit read} }')
    assert_equal "on job::/sandbox/tom {\n    { permit read }\n}\n", formatted
  end

  def test_policy_export_and_import
    source = small_cluster('source')
    out = path('out')
    FileUtils.mkdir_p(out)
    assert_equal [File.join(out, 'root.pol')], CU.policy_export(source, out)
    assert_raises(Err::AlreadyExists) { CU.policy_export(source, out) }

    target = path('target')
    report = CU.policy_import(target, [File.join(out, '*.pol')])
    assert_equal [%w[root created]], report.documents.map { |d| [d.name, d.outcome] }
    assert_equal POLICY, File.read(File.join(target, 'policy', 'root.pol'))
  end

  # --- job data -------------------------------------------------------------------------

  def test_cntmp_export_then_import_into_a_second_cluster
    first = path('first')
    layers = [layer('base', 'bin/tool', "tool v1\n"), layer('config', 'etc/tool.conf', "x=1\n")]
    package = CU.cntmp_package_from_files(
      first, layers, CU::PackageSettings.new(name: 'tool', provides: ['runtime.tool'])
    )
    assert_equal 'package::/apcera/pkg/packages::tool', package.fqn
    assert_equal 2, package.digests.length

    out = path('all.cntmp')
    exported = CU.cntmp_export(first, out, CU::CntmpSelection.new(all: true))
    assert_equal [package.fqn], exported.objects
    assert_equal 2, exported.resources

    inspection = CU.cntmp_inspect(out)
    refute inspection.legacy
    assert_equal [['package', package.fqn]], inspection.objects.map { |o| [o.kind, o.fqn] }
    assert_equal package.digests, inspection.objects.first.resources.map(&:sha256)
    assert_equal exported.resource_bytes, CU.cntmp_verify(out)

    second = path('second')
    imported = CU.cntmp_import(second, [out], CU::CntmpImportSettings.new)
    assert_equal [[package.fqn, 'create']], imported.objects.map { |o| [o.fqn, o.action] }
    assert_equal [package.fqn], CU.cntmp_list_objects(second)
    assert_raises(Err::AlreadyExists) { CU.cntmp_import(second, [out], CU::CntmpImportSettings.new) }
    again = CU.cntmp_import(second, [out], CU::CntmpImportSettings.new(skip_existing: true))
    assert_equal ['unchanged'], again.objects.map(&:action)
  end

  # --- cluster data ---------------------------------------------------------------------

  def test_cluster_conf_is_redacted
    conf = CU.cluster_conf_load(DEMO_CONF)
    assert_equal 'demo', conf.cluster_name
    assert conf.database_backups.has_credentials
    assert_equal 1, conf.components['redis-server']
    ['AKIADEMOFAKEACCESSKEY', 'demo/FAKE+secret+key', 'DEMOFAKEPRIVATEKEY'].each do |secret|
      refute_includes conf.json, secret
    end
  end

  def test_database_backup_and_restore
    source = database('src', 120)
    copy = "cb_uf_rb_copy_#{SecureRandom.hex(5)}"
    @databases << copy
    store = CU::Store.open(path('store'))

    manifest = CU.database_backup(store, [source],
                                  CU::DatabaseBackupSettings.new(dsn: pg_url, with_globals: false))
    assert_equal ["#{source}.dump.zst"], manifest.artifacts.map(&:name)

    settings = CU::DatabaseRestoreSettings.new(dsn: pg_url, as_name: copy)
    plan = CU.database_plan_restore(store, manifest.set_id, source, settings)
    assert_equal [copy, 'create'], [plan.target_database, plan.action]
    assert_equal({ 'public.items' => 120 }, plan.expected_rows)

    report = CU.database_restore(store, manifest.set_id, source, settings)
    assert_equal [['public.items', 120, 120]], report.tables.map { |t| [t.table, t.expected, t.actual] }
    assert_equal '120', psql(url_for(pg_url, copy), 'SELECT count(*) FROM items')
    assert_raises(Err::AlreadyExists) { CU.database_restore(store, manifest.set_id, source, settings) }
  end

  # --- the whole platform ---------------------------------------------------------------

  def test_platform_plan_of_the_demo_cluster
    plan = CU.platform_plan(DEMO_CONF, CU::PlanSettings.new)
    assert_equal 'demo', plan.cluster_name
    by_name = plan.components.to_h { |c| [c.component, c] }
    redis = by_name.fetch('redis-server')
    assert_equal 'not_backed_up', redis.coverage
    assert_includes redis.reason, 'log drain'
    assert_empty redis.artifacts
    assert_equal 'backed_up', by_name.fetch('component-database').coverage
    assert_includes plan.table, 'redis-server'
  end

  def test_platform_backup_and_restore_with_progress
    orch = database('porch', 30)
    cluster = small_cluster('cluster')
    store = CU::Store.open(path('store'))
    settings = CU::PlatformBackupSettings.new(dsn: pg_url, reason: 'daily',
                                              databases: { 'orchestrator' => orch },
                                              with_globals: false)
    recorder = Recorder.new
    report = CU.platform_backup(store, File.join(cluster, 'cluster.conf'), cluster, settings, recorder)
    assert_equal ["db/#{orch}.dump.zst", 'install/cluster.conf', 'install/main.tf', 'policy/root.pol'],
                 report.artifacts.map(&:name)
    assert store.verify_set(report.set_id).ok
    refute_empty recorder.seen
    assert recorder.seen.last.finished
    assert_equal ['backup', 4], [recorder.seen.last.operation, recorder.seen.last.artifacts_done]

    target = path('restored')
    only = CU::PlatformRestoreSettings.new(only: %w[installation-files policy])
    plan = CU.platform_plan_restore(store, report.set_id, target, only)
    assert_equal %w[create create create], plan.items.map(&:action)
    refute File.exist?(target)

    restorer = Recorder.new
    restored = CU.platform_restore(store, report.set_id, target, only, restorer)
    assert_equal 3, restored.items.length
    assert_equal POLICY, File.read(File.join(target, 'policy', 'root.pol'))
    assert_equal SMALL_CONF, File.read(File.join(target, 'cluster.conf'))
    assert restorer.seen.last.finished
  end

  def test_a_failing_listener_does_not_stop_the_backup
    orch = database('fail', 5)
    cluster = small_cluster('cluster')
    store = CU::Store.open(path('store'))
    settings = CU::PlatformBackupSettings.new(dsn: pg_url, databases: { 'orchestrator' => orch },
                                              with_globals: false)
    errors = [RuntimeError.new('listener failed'), CU::ProgressListenerError::Failed.new(reason: 'stop')]
    made = errors.map do |error|
      raiser = Raiser.new(error)
      report = CU.platform_backup(store, File.join(cluster, 'cluster.conf'), cluster, settings, raiser)
      assert_equal 1, raiser.calls
      report.set_id
    end
    assert_equal made.sort, store.list_sets.map(&:set_id).sort
  end

  # --- bad input ------------------------------------------------------------------------

  def test_bad_input_raises
    missing = path('missing.conf')
    assert_raises(Err::NotFound) { CU.cluster_conf_load(missing) }
    assert_raises(Err::NotFound) { CU.platform_plan(missing, CU::PlanSettings.new) }
    assert_raises(Err::NotFound) { CU.cntmp_inspect(path('missing.cntmp')) }
    assert_raises(Err::NotFound) { CU.orchestrator_verify(path('missing.tgz')) }
    assert_raises(Err::InvalidInput) { CU::Store.open('ftp://example.invalid/x') }
    store = CU::Store.open(path('store'))
    assert_raises(Err::InvalidInput) { store.create_set([missing], CU::SetSpec.new(reason: 'someday')) }
    assert_raises(Err::NotFound) { store.create_set([missing], CU::SetSpec.new) }
  end
end
