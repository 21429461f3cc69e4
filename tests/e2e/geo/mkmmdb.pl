#!/usr/bin/perl
# mkmmdb.pl — writes the GeoIP fixtures geo.sh runs against, at test time, with
# MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl).  SPDX-License-Identifier: MIT
#
# Usage: mkmmdb.pl OUTDIR.  Writes four databases:
#
#   city.mmdb     database_type "GeoIP2-City", IPv6 tree, record_size 28: the GeoIP2 schema
#                 (continent.code, country.iso_code, subdivisions.0.iso_code,
#                 location.latitude/longitude).
#   flat.mmdb     database_type "ip-location-db flat test", IPv4 tree, record_size 24: the flat
#                 schema of ip-location-db (country_code, state1, latitude, longitude).
#   custom.mmdb   database_type "meridian custom test" (flat by metadata), fields in places
#                 only a geoip.fields override finds: geo.cc, geo.cont, where.lat, where.lng.
#   regonly.mmdb  database_type "GeoIP2-Country": country.iso_code and registered_country
#                 differ, for a fields override that picks registered_country.
#
# The ranges exist only in these files.  Every network, and where it is:
#
#   city.mmdb
#     11.1.1.0/24        US  NA  NY   New York      40.71, -74.01
#     11.2.0.0/24        DE  EU  HE   Frankfurt     50.11,   8.68   (starts a /16, for /16 ECS)
#     11.3.3.0/24        GB  EU  ENG  London        51.51,  -0.13
#     11.4.4.0/24        US  NA  CA   San Francisco 37.77, -122.42
#     11.5.5.0/24        IN  AS  MH   Mumbai        19.08,  72.88
#     11.6.6.0/24        AU  OC  NSW  Sydney       -33.87, 151.21
#     11.7.0.0/16        BR  SA  SP   Sao Paulo    -23.55, -46.63
#     11.8.8.0/24        FR  EU       (no location)
#     11.9.9.0/24        TR  AS  34   Istanbul      41.01,  28.98
#     11.10.10.0/24      CA  NA  ON   Toronto       43.65, -79.38
#     11.11.11.0/24      registered_country SG only (no country, no continent)
#     11.13.0.0/24       DE  EU  BE   Berlin        52.52,  13.40
#     12.20.1.0/24       IN  AS  KA   Bengaluru     12.97,  77.59   (inside flat.mmdb's 12.16.0.0/12)
#     2a01:1000::/32     DE  EU       Frankfurt     50.11,   8.68
#     2600:1000:2000::/48 US NA  VA   Ashburn       39.04, -77.49
#     2a02:2000::/32     FR  EU       Paris         48.86,   2.35   (geo.sh puts a nets /48 in it)
#   flat.mmdb
#     11.1.1.0/24        JP (shadowed: city.mmdb comes first and has this network)
#     12.1.1.0/24        JP, state1 13, Tokyo       35.68, 139.69   (no continent in the record)
#     12.2.2.0/24        NZ only                                     (no continent, no location)
#     12.3.3.0/24        US, state1 CA              34.05, -118.24
#     12.16.0.0/12       AR only                                     (holds city.mmdb's 12.20.1.0/24)
#   custom.mmdb
#     13.1.1.0/24        geo.cc JP, where 35.68, 139.69
#     13.2.2.0/24        geo.cc BR, geo.cont SA, where -23.55, -46.63
#   regonly.mmdb
#     14.1.1.0/24        country US (NA), registered_country GB
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: mkmmdb.pl OUTDIR\n";

my %types = (
    continent          => 'map',
    country            => 'map',
    registered_country => 'map',
    subdivisions       => [ 'array', 'map' ],
    location           => 'map',
    city               => 'map',
    names              => 'map',
    en                 => 'utf8_string',
    code               => 'utf8_string',
    iso_code           => 'utf8_string',
    latitude           => 'double',
    longitude          => 'double',
    country_code       => 'utf8_string',
    state1             => 'utf8_string',
    city_name          => 'utf8_string',
    geo                => 'map',
    cc                 => 'utf8_string',
    cont               => 'utf8_string',
    where              => 'map',
    lat                => 'double',
    lng                => 'double',
);

sub tree {
    my ( $type, $ip_version, $record_size ) = @_;
    return MaxMind::DB::Writer::Tree->new(
        database_type            => $type,
        description              => { en => "Meridian e2e fixture ($type)" },
        languages                => ['en'],
        ip_version               => $ip_version,
        record_size              => $record_size,
        merge_strategy           => 'none',
        remove_reserved_networks => 0,
        map_key_type_callback    => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
    );
}

# A GeoIP2-City record; $sub and the coordinates may be undef.
sub city_rec {
    my ( $cont, $cc, $sub, $name, $lat, $lon ) = @_;
    my %r = (
        continent => { code     => $cont },
        country   => { iso_code => $cc },
    );
    $r{subdivisions} = [ { iso_code => $sub } ] if defined $sub;
    $r{city} = { names => { en => $name } } if defined $name;
    $r{location} = { latitude => $lat, longitude => $lon } if defined $lat;
    return \%r;
}

my $city = tree( 'GeoIP2-City', 6, 28 );
my @city = (
    [ '11.1.1.0/24',         city_rec( 'NA', 'US', 'NY',  'New York',      40.71, -74.01 ) ],
    [ '11.2.0.0/24',         city_rec( 'EU', 'DE', 'HE',  'Frankfurt',     50.11, 8.68 ) ],
    [ '11.3.3.0/24',         city_rec( 'EU', 'GB', 'ENG', 'London',        51.51, -0.13 ) ],
    [ '11.4.4.0/24',         city_rec( 'NA', 'US', 'CA',  'San Francisco', 37.77, -122.42 ) ],
    [ '11.5.5.0/24',         city_rec( 'AS', 'IN', 'MH',  'Mumbai',        19.08, 72.88 ) ],
    [ '11.6.6.0/24',         city_rec( 'OC', 'AU', 'NSW', 'Sydney',        -33.87, 151.21 ) ],
    [ '11.7.0.0/16',         city_rec( 'SA', 'BR', 'SP',  'Sao Paulo',     -23.55, -46.63 ) ],
    [ '11.8.8.0/24',         city_rec( 'EU', 'FR', undef, undef,           undef, undef ) ],
    [ '11.9.9.0/24',         city_rec( 'AS', 'TR', '34',  'Istanbul',      41.01, 28.98 ) ],
    [ '11.10.10.0/24',       city_rec( 'NA', 'CA', 'ON',  'Toronto',       43.65, -79.38 ) ],
    [ '11.11.11.0/24',       { registered_country => { iso_code => 'SG' } } ],
    [ '11.13.0.0/24',        city_rec( 'EU', 'DE', 'BE',  'Berlin',        52.52, 13.40 ) ],
    [ '12.20.1.0/24',        city_rec( 'AS', 'IN', 'KA',  'Bengaluru',     12.97, 77.59 ) ],
    [ '2a01:1000::/32',      city_rec( 'EU', 'DE', undef, 'Frankfurt',     50.11, 8.68 ) ],
    [ '2600:1000:2000::/48', city_rec( 'NA', 'US', 'VA',  'Ashburn',       39.04, -77.49 ) ],
    [ '2a02:2000::/32',      city_rec( 'EU', 'FR', undef, 'Paris',         48.86, 2.35 ) ],
);
$city->insert_network(@$_) for @city;

my $flat = tree( 'ip-location-db flat test', 4, 24 );
$flat->insert_network( '11.1.1.0/24', { country_code => 'JP' } );
$flat->insert_network( '12.1.1.0/24',
    { country_code => 'JP', state1 => '13', city_name => 'Tokyo', latitude => 35.68,
      longitude => 139.69 } );
$flat->insert_network( '12.2.2.0/24', { country_code => 'NZ' } );
$flat->insert_network( '12.16.0.0/12', { country_code => 'AR' } );
$flat->insert_network( '12.3.3.0/24',
    { country_code => 'US', state1 => 'CA', latitude => 34.05, longitude => -118.24 } );

my $custom = tree( 'meridian custom test', 6, 24 );
$custom->insert_network( '13.1.1.0/24',
    { geo => { cc => 'JP' }, where => { lat => 35.68, lng => 139.69 } } );
$custom->insert_network( '13.2.2.0/24',
    { geo => { cc => 'BR', cont => 'SA' }, where => { lat => -23.55, lng => -46.63 } } );

my $reg = tree( 'GeoIP2-Country', 6, 24 );
$reg->insert_network( '14.1.1.0/24',
    { continent => { code => 'NA' }, country => { iso_code => 'US' },
      registered_country => { iso_code => 'GB' } } );

for ( [ city => $city ], [ flat => $flat ], [ custom => $custom ], [ regonly => $reg ] ) {
    my ( $name, $t ) = @$_;
    open my $fh, '>:raw', "$out/$name.mmdb" or die "$out/$name.mmdb: $!\n";
    $t->write_tree($fh);
    close $fh or die "$out/$name.mmdb: $!\n";
}
