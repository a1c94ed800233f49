// The one translation unit that compiles Boost.Asio (with SSL) and Boost.Beast: every other file
// using them sees BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION (set PUBLIC
// on vigie_net) and compiles declarations only, saving ~12 s per file on this machine.
#include <utility>  // Asio 1.74 needs it before <boost/asio.hpp> under GCC 12 with C++20

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
