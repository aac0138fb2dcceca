// The few UnityEngine signatures the package's scripts use, written by the HeadTracker project
// from Unity's public scripting reference, so that Mono's mcs can check that the scripts compile
// (tests/HeadTracker.Build.Tests/UnityPackageTests.cs). Signatures only: nothing here runs, and
// this is not shipped. A script that uses an API missing here fails that test: add the signature
// as Unity documents it.
using System;

namespace UnityEngine
{
    public class Object
    {
        public static T FindObjectOfType<T>() where T : Object { throw new NotSupportedException(); }
    }

    public class Component : Object
    {
        public Transform transform { get { throw new NotSupportedException(); } }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public class Transform : Component
    {
        public Quaternion localRotation { get; set; }

        public Vector3 localPosition { get; set; }
    }

    public struct Vector3
    {
        public float x, y, z;

        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }

        public static Vector3 operator +(Vector3 a, Vector3 b) { throw new NotSupportedException(); }

        public static Vector3 operator *(Vector3 a, float d) { throw new NotSupportedException(); }
    }

    public struct Quaternion
    {
        public float x, y, z, w;

        public static Quaternion Euler(float x, float y, float z) { throw new NotSupportedException(); }

        public static Quaternion operator *(Quaternion lhs, Quaternion rhs) { throw new NotSupportedException(); }
    }

    public struct Rect
    {
        public Rect(float x, float y, float width, float height) { throw new NotSupportedException(); }
    }

    public enum KeyCode
    {
        None = 0,
        Space = 32,
        F12 = 293,
    }

    public static class Input
    {
        public static bool GetKeyDown(KeyCode key) { throw new NotSupportedException(); }
    }

    public static class GUI
    {
        public static void Label(Rect position, string text) { throw new NotSupportedException(); }
    }

    public static class Debug
    {
        public static void Log(object message) { throw new NotSupportedException(); }

        public static void LogError(object message) { throw new NotSupportedException(); }
    }

    public static class Application
    {
        public static string streamingAssetsPath { get { throw new NotSupportedException(); } }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }
}
