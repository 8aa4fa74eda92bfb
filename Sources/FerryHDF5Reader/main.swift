import FerryHDF5

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The HDF5 reader helper for programs that use FerryHDF5 (HDF5File.open starts it; see
// HDF5ReaderHelper). Run by hand, it only says what it is.
HDF5ReaderHelper.serveIfAsked()
fputs("ferry-hdf5-reader: started by Ferry's HDF5 reading (HDF5ReaderHelper), not by hand\n", stderr)
exit(2)
