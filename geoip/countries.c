/* countries.c — the ISO 3166-1 table behind countries.h, written out once and indexed by code.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/countries.h"
#include "lib/compiler.h"

#include <string.h>

/* CC(first letter, second letter, continent, latitude, longitude), in code order.  Continents
 * follow MaxMind GeoIP2: Turkey and the Caucasus in Asia, Russia and Cyprus in Europe,
 * Timor-Leste and Christmas Island in Oceania.  Points are geographic centroids except where
 * that lands far from nearly everyone: Russia and Canada use a point among their cities,
 * island states spread over an ocean their main island. */
#define COUNTRIES(CC)                                                                              \
    CC(A, D, EU, 42.5, 1.5)     /* Andorra */                                                      \
    CC(A, E, AS, 24.0, 54.0)    /* United Arab Emirates */                                         \
    CC(A, F, AS, 33.9, 67.7)    /* Afghanistan */                                                  \
    CC(A, G, NA, 17.1, -61.8)   /* Antigua and Barbuda */                                          \
    CC(A, I, NA, 18.2, -63.1)   /* Anguilla */                                                     \
    CC(A, L, EU, 41.2, 20.2)    /* Albania */                                                      \
    CC(A, M, AS, 40.1, 45.0)    /* Armenia */                                                      \
    CC(A, O, AF, -12.3, 17.5)   /* Angola */                                                       \
    CC(A, Q, AN, -75.0, 0.0)    /* Antarctica */                                                   \
    CC(A, R, SA, -34.0, -64.0)  /* Argentina */                                                    \
    CC(A, S, OC, -14.3, -170.7) /* American Samoa */                                               \
    CC(A, T, EU, 47.5, 14.5)    /* Austria */                                                      \
    CC(A, U, OC, -25.3, 133.8)  /* Australia */                                                    \
    CC(A, W, NA, 12.5, -70.0)   /* Aruba */                                                        \
    CC(A, X, EU, 60.2, 20.0)    /* Åland Islands */                                               \
    CC(A, Z, AS, 40.3, 47.6)    /* Azerbaijan */                                                   \
    CC(B, A, EU, 44.0, 17.8)    /* Bosnia and Herzegovina */                                       \
    CC(B, B, NA, 13.2, -59.5)   /* Barbados */                                                     \
    CC(B, D, AS, 23.7, 90.4)    /* Bangladesh */                                                   \
    CC(B, E, EU, 50.6, 4.6)     /* Belgium */                                                      \
    CC(B, F, AF, 12.3, -1.6)    /* Burkina Faso */                                                 \
    CC(B, G, EU, 42.7, 25.5)    /* Bulgaria */                                                     \
    CC(B, H, AS, 26.0, 50.6)    /* Bahrain */                                                      \
    CC(B, I, AF, -3.4, 29.9)    /* Burundi */                                                      \
    CC(B, J, AF, 9.3, 2.3)      /* Benin */                                                        \
    CC(B, L, NA, 17.9, -62.8)   /* Saint Barthélemy */                                            \
    CC(B, M, NA, 32.3, -64.8)   /* Bermuda */                                                      \
    CC(B, N, AS, 4.5, 114.7)    /* Brunei */                                                       \
    CC(B, O, SA, -16.3, -63.6)  /* Bolivia */                                                      \
    CC(B, Q, NA, 12.2, -68.3)   /* Bonaire, Sint Eustatius and Saba */                             \
    CC(B, R, SA, -10.3, -53.2)  /* Brazil */                                                       \
    CC(B, S, NA, 24.3, -76.0)   /* Bahamas */                                                      \
    CC(B, T, AS, 27.5, 90.4)    /* Bhutan */                                                       \
    CC(B, V, AN, -54.4, 3.4)    /* Bouvet Island */                                                \
    CC(B, W, AF, -22.3, 24.7)   /* Botswana */                                                     \
    CC(B, Y, EU, 53.7, 28.0)    /* Belarus */                                                      \
    CC(B, Z, NA, 17.2, -88.7)   /* Belize */                                                       \
    CC(C, A, NA, 50.0, -88.0)   /* Canada: between Ontario and the Prairies */                     \
    CC(C, C, AS, -12.2, 96.8)   /* Cocos (Keeling) Islands */                                      \
    CC(C, D, AF, -2.9, 23.7)    /* Congo, Democratic Republic */                                   \
    CC(C, F, AF, 6.6, 20.9)     /* Central African Republic */                                     \
    CC(C, G, AF, -0.7, 15.2)    /* Congo */                                                        \
    CC(C, H, EU, 46.8, 8.2)     /* Switzerland */                                                  \
    CC(C, I, AF, 7.5, -5.5)     /* Côte d'Ivoire */                                               \
    CC(C, K, OC, -21.2, -159.8) /* Cook Islands */                                                 \
    CC(C, L, SA, -33.0, -71.0)  /* Chile */                                                        \
    CC(C, M, AF, 5.7, 12.7)     /* Cameroon */                                                     \
    CC(C, N, AS, 35.0, 104.0)   /* China */                                                        \
    CC(C, O, SA, 4.0, -73.0)    /* Colombia */                                                     \
    CC(C, R, NA, 9.9, -84.1)    /* Costa Rica */                                                   \
    CC(C, U, NA, 21.7, -79.5)   /* Cuba */                                                         \
    CC(C, V, AF, 15.1, -23.6)   /* Cabo Verde */                                                   \
    CC(C, W, NA, 12.2, -69.0)   /* Curaçao */                                                     \
    CC(C, X, OC, -10.5, 105.7)  /* Christmas Island */                                             \
    CC(C, Y, EU, 35.0, 33.2)    /* Cyprus */                                                       \
    CC(C, Z, EU, 49.8, 15.5)    /* Czechia */                                                      \
    CC(D, E, EU, 51.2, 10.4)    /* Germany */                                                      \
    CC(D, J, AF, 11.8, 42.6)    /* Djibouti */                                                     \
    CC(D, K, EU, 56.0, 10.0)    /* Denmark */                                                      \
    CC(D, M, NA, 15.4, -61.4)   /* Dominica */                                                     \
    CC(D, O, NA, 18.8, -70.2)   /* Dominican Republic */                                           \
    CC(D, Z, AF, 28.0, 2.6)     /* Algeria */                                                      \
    CC(E, C, SA, -1.5, -78.2)   /* Ecuador */                                                      \
    CC(E, E, EU, 58.7, 25.5)    /* Estonia */                                                      \
    CC(E, G, AF, 26.8, 30.8)    /* Egypt */                                                        \
    CC(E, H, AF, 24.2, -12.9)   /* Western Sahara */                                               \
    CC(E, R, AF, 15.2, 39.8)    /* Eritrea */                                                      \
    CC(E, S, EU, 40.2, -3.7)    /* Spain */                                                        \
    CC(E, T, AF, 9.1, 40.5)     /* Ethiopia */                                                     \
    CC(F, I, EU, 64.0, 26.0)    /* Finland */                                                      \
    CC(F, J, OC, -17.7, 178.1)  /* Fiji */                                                         \
    CC(F, K, SA, -51.8, -59.5)  /* Falkland Islands */                                             \
    CC(F, M, OC, 6.9, 158.2)    /* Micronesia: Pohnpei */                                          \
    CC(F, O, EU, 62.0, -6.9)    /* Faroe Islands */                                                \
    CC(F, R, EU, 46.6, 2.4)     /* France (metropolitan) */                                        \
    CC(G, A, AF, -0.8, 11.6)    /* Gabon */                                                        \
    CC(G, B, EU, 54.0, -2.0)    /* United Kingdom */                                               \
    CC(G, D, NA, 12.1, -61.7)   /* Grenada */                                                      \
    CC(G, E, AS, 42.3, 43.4)    /* Georgia */                                                      \
    CC(G, F, SA, 4.0, -53.1)    /* French Guiana */                                                \
    CC(G, G, EU, 49.5, -2.6)    /* Guernsey */                                                     \
    CC(G, H, AF, 7.9, -1.0)     /* Ghana */                                                        \
    CC(G, I, EU, 36.1, -5.4)    /* Gibraltar */                                                    \
    CC(G, L, NA, 72.0, -40.0)   /* Greenland */                                                    \
    CC(G, M, AF, 13.4, -15.4)   /* Gambia */                                                       \
    CC(G, N, AF, 10.4, -10.9)   /* Guinea */                                                       \
    CC(G, P, NA, 16.2, -61.6)   /* Guadeloupe */                                                   \
    CC(G, Q, AF, 1.6, 10.3)     /* Equatorial Guinea */                                            \
    CC(G, R, EU, 39.1, 22.0)    /* Greece */                                                       \
    CC(G, S, AN, -54.4, -36.6)  /* South Georgia and the South Sandwich Islands */                 \
    CC(G, T, NA, 15.7, -90.2)   /* Guatemala */                                                    \
    CC(G, U, OC, 13.4, 144.8)   /* Guam */                                                         \
    CC(G, W, AF, 12.0, -15.0)   /* Guinea-Bissau */                                                \
    CC(G, Y, SA, 4.9, -58.9)    /* Guyana */                                                       \
    CC(H, K, AS, 22.3, 114.2)   /* Hong Kong */                                                    \
    CC(H, M, AN, -53.1, 73.5)   /* Heard Island and McDonald Islands */                            \
    CC(H, N, NA, 14.8, -86.6)   /* Honduras */                                                     \
    CC(H, R, EU, 45.1, 15.6)    /* Croatia */                                                      \
    CC(H, T, NA, 19.0, -72.4)   /* Haiti */                                                        \
    CC(H, U, EU, 47.2, 19.5)    /* Hungary */                                                      \
    CC(I, D, AS, -2.5, 118.0)   /* Indonesia */                                                    \
    CC(I, E, EU, 53.2, -8.2)    /* Ireland */                                                      \
    CC(I, L, AS, 31.4, 35.0)    /* Israel */                                                       \
    CC(I, M, EU, 54.2, -4.5)    /* Isle of Man */                                                  \
    CC(I, N, AS, 22.0, 79.0)    /* India */                                                        \
    CC(I, O, AS, -6.3, 71.9)    /* British Indian Ocean Territory */                               \
    CC(I, Q, AS, 33.2, 43.7)    /* Iraq */                                                         \
    CC(I, R, AS, 32.4, 53.7)    /* Iran */                                                         \
    CC(I, S, EU, 64.9, -18.6)   /* Iceland */                                                      \
    CC(I, T, EU, 42.8, 12.6)    /* Italy */                                                        \
    CC(J, E, EU, 49.2, -2.1)    /* Jersey */                                                       \
    CC(J, M, NA, 18.1, -77.3)   /* Jamaica */                                                      \
    CC(J, O, AS, 31.0, 36.5)    /* Jordan */                                                       \
    CC(J, P, AS, 36.2, 138.3)   /* Japan */                                                        \
    CC(K, E, AF, 0.2, 37.9)     /* Kenya */                                                        \
    CC(K, G, AS, 41.2, 74.8)    /* Kyrgyzstan */                                                   \
    CC(K, H, AS, 12.6, 105.0)   /* Cambodia */                                                     \
    CC(K, I, OC, 1.4, 173.0)    /* Kiribati: Tarawa */                                             \
    CC(K, M, AF, -11.9, 43.9)   /* Comoros */                                                      \
    CC(K, N, NA, 17.3, -62.8)   /* Saint Kitts and Nevis */                                        \
    CC(K, P, AS, 40.3, 127.5)   /* North Korea */                                                  \
    CC(K, R, AS, 36.5, 127.9)   /* South Korea */                                                  \
    CC(K, W, AS, 29.3, 47.6)    /* Kuwait */                                                       \
    CC(K, Y, NA, 19.3, -81.3)   /* Cayman Islands */                                               \
    CC(K, Z, AS, 48.0, 67.0)    /* Kazakhstan */                                                   \
    CC(L, A, AS, 19.9, 102.5)   /* Laos */                                                         \
    CC(L, B, AS, 33.9, 35.9)    /* Lebanon */                                                      \
    CC(L, C, NA, 13.9, -61.0)   /* Saint Lucia */                                                  \
    CC(L, I, EU, 47.2, 9.5)     /* Liechtenstein */                                                \
    CC(L, K, AS, 7.9, 80.8)     /* Sri Lanka */                                                    \
    CC(L, R, AF, 6.4, -9.4)     /* Liberia */                                                      \
    CC(L, S, AF, -29.6, 28.2)   /* Lesotho */                                                      \
    CC(L, T, EU, 55.2, 23.9)    /* Lithuania */                                                    \
    CC(L, U, EU, 49.8, 6.1)     /* Luxembourg */                                                   \
    CC(L, V, EU, 56.9, 24.6)    /* Latvia */                                                       \
    CC(L, Y, AF, 26.3, 17.2)    /* Libya */                                                        \
    CC(M, A, AF, 31.8, -7.1)    /* Morocco */                                                      \
    CC(M, C, EU, 43.7, 7.4)     /* Monaco */                                                       \
    CC(M, D, EU, 47.4, 28.4)    /* Moldova */                                                      \
    CC(M, E, EU, 42.7, 19.4)    /* Montenegro */                                                   \
    CC(M, F, NA, 18.1, -63.1)   /* Saint Martin (French part) */                                   \
    CC(M, G, AF, -18.8, 46.9)   /* Madagascar */                                                   \
    CC(M, H, OC, 7.1, 171.2)    /* Marshall Islands: Majuro */                                     \
    CC(M, K, EU, 41.6, 21.7)    /* North Macedonia */                                              \
    CC(M, L, AF, 17.6, -4.0)    /* Mali */                                                         \
    CC(M, M, AS, 21.9, 95.9)    /* Myanmar */                                                      \
    CC(M, N, AS, 46.9, 103.8)   /* Mongolia */                                                     \
    CC(M, O, AS, 22.2, 113.5)   /* Macao */                                                        \
    CC(M, P, OC, 15.2, 145.7)   /* Northern Mariana Islands */                                     \
    CC(M, Q, NA, 14.6, -61.0)   /* Martinique */                                                   \
    CC(M, R, AF, 21.0, -10.9)   /* Mauritania */                                                   \
    CC(M, S, NA, 16.7, -62.2)   /* Montserrat */                                                   \
    CC(M, T, EU, 35.9, 14.4)    /* Malta */                                                        \
    CC(M, U, AF, -20.3, 57.6)   /* Mauritius */                                                    \
    CC(M, V, AS, 3.2, 73.2)     /* Maldives */                                                     \
    CC(M, W, AF, -13.3, 34.3)   /* Malawi */                                                       \
    CC(M, X, NA, 23.6, -102.6)  /* Mexico */                                                       \
    CC(M, Y, AS, 4.2, 102.0)    /* Malaysia: the peninsula */                                      \
    CC(M, Z, AF, -18.7, 35.5)   /* Mozambique */                                                   \
    CC(N, A, AF, -22.6, 17.1)   /* Namibia */                                                      \
    CC(N, C, OC, -21.3, 165.6)  /* New Caledonia */                                                \
    CC(N, E, AF, 17.6, 8.1)     /* Niger */                                                        \
    CC(N, F, OC, -29.0, 168.0)  /* Norfolk Island */                                               \
    CC(N, G, AF, 9.1, 8.7)      /* Nigeria */                                                      \
    CC(N, I, NA, 12.9, -85.2)   /* Nicaragua */                                                    \
    CC(N, L, EU, 52.1, 5.3)     /* Netherlands */                                                  \
    CC(N, O, EU, 61.0, 9.0)     /* Norway */                                                       \
    CC(N, P, AS, 28.4, 84.1)    /* Nepal */                                                        \
    CC(N, R, OC, -0.5, 166.9)   /* Nauru */                                                        \
    CC(N, U, OC, -19.1, -169.9) /* Niue */                                                         \
    CC(N, Z, OC, -41.0, 174.0)  /* New Zealand */                                                  \
    CC(O, M, AS, 21.5, 56.0)    /* Oman */                                                         \
    CC(P, A, NA, 8.5, -80.1)    /* Panama */                                                       \
    CC(P, E, SA, -9.2, -75.0)   /* Peru */                                                         \
    CC(P, F, OC, -17.7, -149.4) /* French Polynesia: Tahiti */                                     \
    CC(P, G, OC, -6.3, 145.0)   /* Papua New Guinea */                                             \
    CC(P, H, AS, 12.9, 121.8)   /* Philippines */                                                  \
    CC(P, K, AS, 30.4, 69.3)    /* Pakistan */                                                     \
    CC(P, L, EU, 51.9, 19.1)    /* Poland */                                                       \
    CC(P, M, NA, 46.9, -56.3)   /* Saint Pierre and Miquelon */                                    \
    CC(P, N, OC, -25.1, -130.1) /* Pitcairn */                                                     \
    CC(P, R, NA, 18.2, -66.5)   /* Puerto Rico */                                                  \
    CC(P, S, AS, 31.9, 35.2)    /* Palestine */                                                    \
    CC(P, T, EU, 39.6, -8.0)    /* Portugal (mainland) */                                          \
    CC(P, W, OC, 7.5, 134.6)    /* Palau */                                                        \
    CC(P, Y, SA, -23.4, -58.4)  /* Paraguay */                                                     \
    CC(Q, A, AS, 25.3, 51.2)    /* Qatar */                                                        \
    CC(R, E, AF, -21.1, 55.5)   /* Réunion */                                                     \
    CC(R, O, EU, 45.9, 25.0)    /* Romania */                                                      \
    CC(R, S, EU, 44.0, 20.9)    /* Serbia */                                                       \
    CC(R, U, EU, 56.0, 48.0)    /* Russia: European Russia and the Urals */                        \
    CC(R, W, AF, -1.9, 29.9)    /* Rwanda */                                                       \
    CC(S, A, AS, 23.9, 45.1)    /* Saudi Arabia */                                                 \
    CC(S, B, OC, -9.6, 160.2)   /* Solomon Islands */                                              \
    CC(S, C, AF, -4.7, 55.5)    /* Seychelles */                                                   \
    CC(S, D, AF, 15.5, 30.2)    /* Sudan */                                                        \
    CC(S, E, EU, 62.0, 15.0)    /* Sweden */                                                       \
    CC(S, G, AS, 1.35, 103.8)   /* Singapore */                                                    \
    CC(S, H, AF, -15.9, -5.7)   /* Saint Helena, Ascension and Tristan da Cunha */                 \
    CC(S, I, EU, 46.1, 14.8)    /* Slovenia */                                                     \
    CC(S, J, EU, 78.0, 16.0)    /* Svalbard and Jan Mayen */                                       \
    CC(S, K, EU, 48.7, 19.7)    /* Slovakia */                                                     \
    CC(S, L, AF, 8.5, -11.8)    /* Sierra Leone */                                                 \
    CC(S, M, EU, 43.9, 12.5)    /* San Marino */                                                   \
    CC(S, N, AF, 14.5, -14.5)   /* Senegal */                                                      \
    CC(S, O, AF, 5.2, 46.2)     /* Somalia */                                                      \
    CC(S, R, SA, 4.0, -56.0)    /* Suriname */                                                     \
    CC(S, S, AF, 7.9, 30.0)     /* South Sudan */                                                  \
    CC(S, T, AF, 0.2, 6.6)      /* São Tomé and Príncipe */                                     \
    CC(S, V, NA, 13.8, -88.9)   /* El Salvador */                                                  \
    CC(S, X, NA, 18.0, -63.1)   /* Sint Maarten */                                                 \
    CC(S, Y, AS, 35.0, 38.5)    /* Syria */                                                        \
    CC(S, Z, AF, -26.5, 31.5)   /* Eswatini */                                                     \
    CC(T, C, NA, 21.7, -71.8)   /* Turks and Caicos Islands */                                     \
    CC(T, D, AF, 15.5, 18.7)    /* Chad */                                                         \
    CC(T, F, AN, -49.3, 69.3)   /* French Southern Territories: Kerguelen */                       \
    CC(T, G, AF, 8.6, 0.8)      /* Togo */                                                         \
    CC(T, H, AS, 15.9, 101.0)   /* Thailand */                                                     \
    CC(T, J, AS, 38.9, 71.3)    /* Tajikistan */                                                   \
    CC(T, K, OC, -9.2, -171.8)  /* Tokelau */                                                      \
    CC(T, L, OC, -8.9, 125.7)   /* Timor-Leste */                                                  \
    CC(T, M, AS, 39.0, 59.6)    /* Turkmenistan */                                                 \
    CC(T, N, AF, 34.0, 9.5)     /* Tunisia */                                                      \
    CC(T, O, OC, -21.2, -175.2) /* Tonga */                                                        \
    CC(T, R, AS, 39.0, 35.2)    /* Türkiye */                                                     \
    CC(T, T, NA, 10.7, -61.2)   /* Trinidad and Tobago */                                          \
    CC(T, V, OC, -8.5, 179.2)   /* Tuvalu */                                                       \
    CC(T, W, AS, 23.7, 121.0)   /* Taiwan */                                                       \
    CC(T, Z, AF, -6.4, 34.9)    /* Tanzania */                                                     \
    CC(U, A, EU, 48.9, 31.2)    /* Ukraine */                                                      \
    CC(U, G, AF, 1.4, 32.3)     /* Uganda */                                                       \
    CC(U, M, OC, 19.3, 166.6)   /* United States Minor Outlying Islands: Wake */                   \
    CC(U, S, NA, 39.8, -98.6)   /* United States */                                                \
    CC(U, Y, SA, -32.5, -55.8)  /* Uruguay */                                                      \
    CC(U, Z, AS, 41.4, 64.6)    /* Uzbekistan */                                                   \
    CC(V, A, EU, 41.9, 12.5)    /* Holy See */                                                     \
    CC(V, C, NA, 13.3, -61.2)   /* Saint Vincent and the Grenadines */                             \
    CC(V, E, SA, 7.0, -66.0)    /* Venezuela */                                                    \
    CC(V, G, NA, 18.4, -64.6)   /* Virgin Islands (British) */                                     \
    CC(V, I, NA, 18.3, -64.9)   /* Virgin Islands (U.S.) */                                        \
    CC(V, N, AS, 16.0, 106.5)   /* Viet Nam */                                                     \
    CC(V, U, OC, -15.4, 166.9)  /* Vanuatu */                                                      \
    CC(W, F, OC, -13.8, -177.2) /* Wallis and Futuna */                                            \
    CC(W, S, OC, -13.8, -172.1) /* Samoa */                                                        \
    CC(X, K, EU, 42.6, 20.9)    /* Kosovo (user-assigned, used by MaxMind) */                      \
    CC(Y, E, AS, 15.6, 48.0)    /* Yemen */                                                        \
    CC(Y, T, AF, -12.8, 45.2)   /* Mayotte */                                                      \
    CC(Z, A, AF, -29.0, 24.7)   /* South Africa */                                                 \
    CC(Z, M, AF, -13.1, 27.8)   /* Zambia */                                                       \
    CC(Z, W, AF, -19.0, 29.9)   /* Zimbabwe */

/* clang-format off */
enum letter {
    L_A, L_B, L_C, L_D, L_E, L_F, L_G, L_H, L_I, L_J, L_K, L_L, L_M,
    L_N, L_O, L_P, L_Q, L_R, L_S, L_T, L_U, L_V, L_W, L_X, L_Y, L_Z
};
/* clang-format on */

#define SLOT(a, b) (L_##a * 26 + L_##b)

#define ROW(a, b, cont, lat, lon) {#a #b, #cont, (float)(lat), (float)(lon)},
static const struct country_info countries[] = {COUNTRIES(ROW)};

#define ORDINAL(a, b, cont, lat, lon) ORD_##a##b,
enum ordinal { COUNTRIES(ORDINAL) ORD_COUNT };

/* One byte per possible code: the row's position plus one, or 0 for an unassigned code. */
#define INDEX(a, b, cont, lat, lon) [SLOT(a, b)] = ORD_##a##b + 1,
static const unsigned char by_code[26 * 26] = {COUNTRIES(INDEX)};

_Static_assert(ORD_COUNT < 256, "by_code holds positions in a byte");

const struct country_info *country_find(const char *cc)
{
    if (!cc || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2])
        return NULL;
    unsigned pos = by_code[(cc[0] - 'A') * 26 + (cc[1] - 'A')];
    return pos ? &countries[pos - 1] : NULL;
}

bool continent_valid(const char *code)
{
    static const char valid[][3] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (size_t i = 0; code && i < ARRAY_LEN(valid); i++)
        if (!strcmp(code, valid[i]))
            return true;
    return false;
}

size_t country_count(void)
{
    return ORD_COUNT;
}

const struct country_info *country_at(size_t i)
{
    return i < ORD_COUNT ? &countries[i] : NULL;
}
