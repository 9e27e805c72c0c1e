#ifndef CORRAL_CIMAGECODECS_H
#define CORRAL_CIMAGECODECS_H
// The C side of Corral's image decoding. libpng/libjpeg report errors by longjmp; that control
// flow stays inside these functions, which return a status code and a message buffer instead.
// (Filled in by the imaging issue.)
int corral_codecs_version(void);
#endif
