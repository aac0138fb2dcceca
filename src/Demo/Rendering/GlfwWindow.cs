using System;
using System.Runtime.InteropServices;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Rendering;

/// <summary>
/// A window with an OpenGL 3.3 core context through GLFW 3 (Debian's libglfw3), called directly:
/// Silk.NET.Windowing is not served here. The context is current on the creating thread; use
/// <see cref="Gl"/> and every method from that thread only.
/// </summary>
internal sealed partial class GlfwWindow : IDisposable
{
    private const string Lib = "libglfw.so.3";
    private const int GLFW_CONTEXT_VERSION_MAJOR = 0x00022002;
    private const int GLFW_CONTEXT_VERSION_MINOR = 0x00022003;
    private const int GLFW_OPENGL_PROFILE = 0x00022008;
    private const int GLFW_OPENGL_CORE_PROFILE = 0x00032001;
    private const int GLFW_OPENGL_FORWARD_COMPAT = 0x00022006;
    private const int GLFW_RESIZABLE = 0x00020003;
    private const int GLFW_PRESS = 1;

    /// <summary>GLFW key codes the demo uses.</summary>
    public const int KeySpace = 32, KeyF = 70, KeyK = 75, KeyM = 77, KeyN = 78, KeyR = 82, KeyEscape = 256;

    private nint _window;

    private GlfwWindow(nint window)
    {
        _window = window;
        Gl = GL.GetApi(name => glfwGetProcAddress(name));
    }

    /// <summary>The OpenGL API bound to this window's context.</summary>
    public GL Gl { get; }

    /// <summary>Whether a display can be reached at all (X11 DISPLAY or Wayland).</summary>
    public static bool DisplayAvailable =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"));

    /// <summary>Opens a window of <paramref name="width"/> x <paramref name="height"/> pixels and
    /// makes its context current, with vsync on.</summary>
    /// <exception cref="InvalidOperationException">GLFW is missing, or no window or context could be
    /// made; the message names the failing call and GLFW's reason.</exception>
    public static GlfwWindow Open(int width, int height, string title)
    {
        try
        {
            if (glfwInit() == 0)
            {
                throw new InvalidOperationException($"glfwInit failed: {LastError()}");
            }
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"a window needs {Lib} (Debian: apt-get install libglfw3): {e.Message}", e);
        }

        glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
        glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
        glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
        glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, 1);
        glfwWindowHint(GLFW_RESIZABLE, 1);
        nint window = glfwCreateWindow(width, height, title, 0, 0);
        if (window == 0)
        {
            string reason = LastError();
            glfwTerminate();
            throw new InvalidOperationException($"glfwCreateWindow {width}x{height} failed: {reason}");
        }

        glfwMakeContextCurrent(window);
        glfwSwapInterval(1);
        return new GlfwWindow(window);
    }

    /// <summary>True once the user closed the window (or <see cref="Close"/> was called).</summary>
    public bool ShouldClose => glfwWindowShouldClose(_window) != 0;

    /// <summary>Asks the window to close.</summary>
    public void Close() => glfwSetWindowShouldClose(_window, 1);

    /// <summary>The drawable size in pixels (may differ from the window size on high-DPI screens).</summary>
    public (int Width, int Height) FramebufferSize
    {
        get
        {
            glfwGetFramebufferSize(_window, out int w, out int h);
            return (w, h);
        }
    }

    /// <summary>Whether <paramref name="key"/> is held down now.</summary>
    public bool IsDown(int key) => glfwGetKey(_window, key) == GLFW_PRESS;

    /// <summary>Handles pending window events (keys, close, resize).</summary>
    public static void PollEvents() => glfwPollEvents();

    /// <summary>Shows what was drawn (waits for vsync).</summary>
    public void SwapBuffers() => glfwSwapBuffers(_window);

    public void Dispose()
    {
        if (_window != 0)
        {
            glfwDestroyWindow(_window);
            glfwTerminate();
            _window = 0;
        }
    }

    private static string LastError()
    {
        int code = glfwGetError(out nint description);
        return code == 0 ? "no reason given" : $"{Marshal.PtrToStringUTF8(description)} (0x{code:X})";
    }

    [LibraryImport(Lib)]
    private static partial int glfwInit();

    [LibraryImport(Lib)]
    private static partial void glfwTerminate();

    [LibraryImport(Lib)]
    private static partial void glfwWindowHint(int hint, int value);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint glfwCreateWindow(int width, int height, string title, nint monitor, nint share);

    [LibraryImport(Lib)]
    private static partial void glfwDestroyWindow(nint window);

    [LibraryImport(Lib)]
    private static partial void glfwMakeContextCurrent(nint window);

    [LibraryImport(Lib)]
    private static partial void glfwSwapInterval(int interval);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint glfwGetProcAddress(string name);

    [LibraryImport(Lib)]
    private static partial int glfwWindowShouldClose(nint window);

    [LibraryImport(Lib)]
    private static partial void glfwSetWindowShouldClose(nint window, int value);

    [LibraryImport(Lib)]
    private static partial void glfwGetFramebufferSize(nint window, out int width, out int height);

    [LibraryImport(Lib)]
    private static partial int glfwGetKey(nint window, int key);

    [LibraryImport(Lib)]
    private static partial void glfwPollEvents();

    [LibraryImport(Lib)]
    private static partial void glfwSwapBuffers(nint window);

    [LibraryImport(Lib)]
    private static partial int glfwGetError(out nint description);
}
