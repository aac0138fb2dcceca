using System;
using System.IO;
using HeadTracking.Demo.Rendering;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo;

/// <summary>
/// The demo in a window (GLFW): the render loop runs at the display's rate and draws the newest
/// frame and result; capture and inference run on the tracker's own thread. Keys as in --help.
/// </summary>
internal static class WindowRunner
{
    private static readonly int[] s_keys = [GlfwWindow.KeyR, GlfwWindow.KeyF, GlfwWindow.KeyM, GlfwWindow.KeyK, GlfwWindow.KeyN, GlfwWindow.KeySpace];

    public static int Run(DemoOptions options, TextWriter log)
    {
        // Frame by frame when the run must be reproducible (a screenshot of frame N); otherwise
        // files play at their own rate and the window shows what is newest.
        bool lockstep = options.Screenshot != null;
        using var app = new DemoApp(options, lockstep, log);
        if (!app.Next(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidDataException($"{app.Source}: no frames could be read");
        }

        (int width, int height) = app.PictureSize;
        using GlfwWindow window = GlfwWindow.Open(width, height, $"HeadTracker: {app.Source}");
        app.Attach(window.Gl, log);
        try
        {
            Loop(app, window, options, lockstep, log);
        }
        finally
        {
            app.Detach(); // before the window and its context go
        }

        return 0;
    }

    private static void Loop(DemoApp app, GlfwWindow window, DemoOptions options, bool lockstep, TextWriter log)
    {
        log.WriteLine("Keys: R recentre, F filtered/raw, M mask, K keypoints, N names, Space pause, Esc quit");
        var wasDown = new bool[s_keys.Length];
        int shown = 1;
        while (!window.ShouldClose)
        {
            GlfwWindow.PollEvents();
            if (window.IsDown(GlfwWindow.KeyEscape))
            {
                break;
            }

            for (int i = 0; i < s_keys.Length; i++)
            {
                bool down = window.IsDown(s_keys[i]);
                if (down && !wasDown[i])
                {
                    app.Key(s_keys[i]);
                }

                wasDown[i] = down;
            }

            bool last = options.Frames is int limit && shown >= limit;
            if (!lockstep)
            {
                app.Update();
            }

            (int w, int h) = window.FramebufferSize;
            app.Render(w, h);
            if (last || (lockstep && app.Tracker.Status == Runtime.TrackerStatus.Stopped))
            {
                if (options.Screenshot != null)
                {
                    Screenshot(window.Gl, w, h, options.Screenshot);
                    log.WriteLine($"Screenshot: {Path.GetFullPath(options.Screenshot)} ({w}x{h}, frame {shown})");
                }

                window.SwapBuffers();
                break;
            }

            window.SwapBuffers();
            if (lockstep)
            {
                if (!app.Next(TimeSpan.FromSeconds(30)))
                {
                    continue; // the file ended: the next round takes the screenshot and stops
                }

                shown++;
            }
            else if (app.ShownSequence > shown)
            {
                shown = (int)app.ShownSequence;
            }
        }
    }

    /// <summary>Reads the back buffer (what was just drawn, before the swap) into a PNG.</summary>
    private static unsafe void Screenshot(GL gl, int width, int height, string path)
    {
        var rgba = new byte[width * height * 4];
        gl.ReadBuffer(ReadBufferMode.Back);
        gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
        gl.ReadPixels<byte>(0, 0, (uint)width, (uint)height, PixelFormat.Rgba, PixelType.UnsignedByte, rgba);
        using var flipped = new Mat();
        using var bgr = new Mat();
        HeadlessRunner.ToBgr(rgba, width, height, flipped, bgr);
        if (!Cv2.ImWrite(path, bgr))
        {
            throw new IOException($"cannot write {path}");
        }
    }
}
