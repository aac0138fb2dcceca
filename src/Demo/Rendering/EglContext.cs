using System;
using System.Runtime.InteropServices;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Rendering;

/// <summary>
/// A headless OpenGL context through EGL on Mesa's surfaceless platform: no display, no window,
/// renders on the CPU (llvmpipe) or a GPU when the driver has one. The context is current on the
/// thread that created it; use <see cref="Gl"/> only from that thread, and dispose it there.
/// </summary>
internal sealed partial class EglContext : IDisposable
{
    private const string Lib = "libEGL.so.1";
    private const int EGL_NONE = 0x3038;
    private const int EGL_SURFACE_TYPE = 0x3033;
    private const int EGL_PBUFFER_BIT = 0x0001;
    private const int EGL_RENDERABLE_TYPE = 0x3040;
    private const int EGL_OPENGL_BIT = 0x0008;
    private const int EGL_RED_SIZE = 0x3024;
    private const int EGL_GREEN_SIZE = 0x3023;
    private const int EGL_BLUE_SIZE = 0x3022;
    private const int EGL_ALPHA_SIZE = 0x3021;
    private const int EGL_WIDTH = 0x3057;
    private const int EGL_HEIGHT = 0x3056;
    private const int EGL_OPENGL_API = 0x30A2;
    private const int EGL_CONTEXT_MAJOR_VERSION = 0x3098;
    private const int EGL_CONTEXT_MINOR_VERSION = 0x30FB;
    private const int EGL_CONTEXT_OPENGL_PROFILE_MASK = 0x30FD;
    private const int EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT = 0x1;
    private const int EGL_PLATFORM_SURFACELESS_MESA = 0x31DD;

    private nint _display;
    private nint _context;
    private nint _surface;

    private EglContext(nint display, nint context, nint surface, int width, int height)
    {
        _display = display;
        _context = context;
        _surface = surface;
        Width = width;
        Height = height;
        Gl = GL.GetApi(name => eglGetProcAddress(name));
    }

    /// <summary>The OpenGL API bound to this context.</summary>
    public GL Gl { get; }

    /// <summary>Width of the default framebuffer in pixels.</summary>
    public int Width { get; }

    /// <summary>Height of the default framebuffer in pixels.</summary>
    public int Height { get; }

    /// <summary>Creates an OpenGL 3.3 core context with an RGBA8 pbuffer of the given size and
    /// makes it current on the calling thread.</summary>
    /// <exception cref="InvalidOperationException">EGL or Mesa is missing or refuses; the message
    /// names the failing call, the EGL error and the packages that provide EGL.</exception>
    public static EglContext CreateHeadless(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        nint display;
        try
        {
            display = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, 0, 0);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException(
                $"Headless OpenGL needs {Lib} (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri): {e.Message}", e);
        }

        Check(display != 0, "eglGetPlatformDisplay(surfaceless)");
        Check(eglInitialize(display, out _, out _), "eglInitialize");
        Check(eglBindAPI(EGL_OPENGL_API), "eglBindAPI(OpenGL)");

        int[] configAttribs =
        [
            EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
            EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_NONE,
        ];
        var configs = new nint[1];
        Check(eglChooseConfig(display, configAttribs, configs, 1, out int count) && count > 0, "eglChooseConfig(RGBA8 pbuffer, OpenGL)");

        int[] contextAttribs =
        [
            EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
            EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE,
        ];
        nint context = eglCreateContext(display, configs[0], 0, contextAttribs);
        Check(context != 0, "eglCreateContext(OpenGL 3.3 core)");

        nint surface = eglCreatePbufferSurface(display, configs[0], [EGL_WIDTH, width, EGL_HEIGHT, height, EGL_NONE]);
        if (surface == 0)
        {
            eglDestroyContext(display, context);
            Check(false, $"eglCreatePbufferSurface({width}x{height})");
        }

        if (!eglMakeCurrent(display, surface, surface, context))
        {
            eglDestroySurface(display, surface);
            eglDestroyContext(display, context);
            Check(false, "eglMakeCurrent");
        }

        return new EglContext(display, context, surface, width, height);
    }

    /// <summary>Releases the context and its surface; call it on the thread that created it.</summary>
    public void Dispose()
    {
        if (_display == 0)
        {
            return;
        }

        eglMakeCurrent(_display, 0, 0, 0);
        eglDestroySurface(_display, _surface);
        eglDestroyContext(_display, _context);
        Gl.Dispose();
        // The display is shared by every context of this platform in the process: not terminated here.
        _display = _context = _surface = 0;
    }

    private static void Check(bool ok, string call)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"{call} failed: EGL error 0x{eglGetError():X4}. Headless OpenGL needs Mesa's EGL (libegl1 libegl-mesa0 libgl1-mesa-dri).");
        }
    }

    [LibraryImport(Lib)]
    private static partial nint eglGetPlatformDisplay(int platform, nint nativeDisplay, nint attribs);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglInitialize(nint display, out int major, out int minor);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglBindAPI(int api);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglChooseConfig(nint display, int[] attribs, [Out] nint[] configs, int size, out int count);

    [LibraryImport(Lib)]
    private static partial nint eglCreateContext(nint display, nint config, nint share, int[] attribs);

    [LibraryImport(Lib)]
    private static partial nint eglCreatePbufferSurface(nint display, nint config, int[] attribs);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglMakeCurrent(nint display, nint draw, nint read, nint context);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglDestroySurface(nint display, nint surface);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool eglDestroyContext(nint display, nint context);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint eglGetProcAddress(string name);

    [LibraryImport(Lib)]
    private static partial int eglGetError();
}
